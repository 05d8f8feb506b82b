package dev.parley.bench;

import dev.parley.config.EmbeddedPostgresServer;
import dev.parley.config.EmbeddedRedisServer;
import dev.parley.config.Ports;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The load generator (README, "Performance"). {@code bench/run <scenario> [--key value ...]}:
 *
 * <ul>
 *   <li>{@code steady}: connections in rooms of a fixed size, a fixed rate of messages, every one stored;</li>
 *   <li>{@code sweep}: the same, with the rate raised step by step until p99 passes 100 ms or a message is lost;</li>
 *   <li>{@code store}: each user alone in a room, the rate raised likewise: how many messages a second are stored;</li>
 *   <li>{@code capacity}: sockets opened at a fixed rate with churn, then SSE streams, then the live heap per
 *       idle connection after a full GC;</li>
 *   <li>{@code bigroom}: one room of 5,000 while the assistant streams into ten others ({@link BigRoom}).</li>
 * </ul>
 *
 * Without {@code --targets} it starts what it measures: a durable embedded PostgreSQL, an embedded Redis, and
 * {@code --nodes} Parley nodes ({@code target/parley.jar}) in one cluster; with {@code --targets host:port,...}
 * it uses running nodes and finds their processes by {@code parley.jar} in their command line. Each measured
 * window prints one row.
 */
public final class Bench {

  private final Map<String, String> options;
  private final List<Process> started = new ArrayList<>();
  private final List<AutoCloseable> services = new ArrayList<>();
  private List<Long> serverPids = new ArrayList<>();
  private Path workDir;

  private Bench(Map<String, String> options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: bench/run capacity|steady|sweep|store|bigroom [--connections N] [--rooms N] "
        + "[--rate MSG_PER_S] [--seconds N] [--warmup N] [--nodes N] [--targets host:port,...] [--auth query|frame] [--transport auto|io_uring|epoll|nio]");
      System.exit(2);
    }
    Map<String, String> options = new LinkedHashMap<>();
    options.put("scenario", args[0]);
    for (int i = 1; i + 1 < args.length; i += 2) {
      options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    Bench bench = new Bench(options);
    try {
      bench.run();
    } finally {
      bench.stop();
    }
    System.exit(0);
  }

  int integer(String key, int fallback) {
    return Integer.parseInt(options.getOrDefault(key, Integer.toString(fallback)));
  }

  /** The nodes' {@code TRANSPORT}, checked here: a node that refuses it would only show as a start that times out. */
  private String transport() {
    String transport = options.getOrDefault("transport", "auto");
    if (!dev.parley.config.ParleyConfig.TRANSPORTS.contains(transport)) {
      throw new IllegalArgumentException("--transport is one of " + dev.parley.config.ParleyConfig.TRANSPORTS);
    }
    return transport;
  }

  private void run() throws Exception {
    String scenario = options.get("scenario");
    boolean store = "store".equals(scenario);
    boolean capacity = "capacity".equals(scenario);
    boolean sweep = "sweep".equals(scenario) || store;
    boolean bigRoom = "bigroom".equals(scenario);
    if (!sweep && !capacity && !bigRoom && !"steady".equals(scenario)) {
      throw new IllegalArgumentException("unknown scenario " + scenario);
    }
    // store: everyone alone in a room, so each message is one delivery and the rate is what the store takes.
    int connections = integer("connections", capacity ? 10_000 : store ? 1_000 : sweep ? 2_000 : 5_000);
    int rooms = integer("rooms", capacity ? 200 : store ? connections : sweep ? 40 : 100);
    int nodes = integer("nodes", sweep && !store ? 2 : 1);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(integer("client-threads", 2)));
    if (bigRoom) {
      try {
        BigRoom.run(this, vertx);
      } finally {
        vertx.close().await();
      }
      return;
    }
    List<String> targets = options.containsKey("targets") ? List.of(options.get("targets").split(","))
      : startCluster(nodes, Map.of());
    if (options.containsKey("targets")) {
      serverPids = ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(line -> line.contains("parley.jar")).orElse(false))
        .map(ProcessHandle::pid).toList();
    }
    try (Fleet fleet = new Fleet(vertx, targets)) {
      String auth = options.getOrDefault("auth", "query");
      if (!List.of("query", "frame").contains(auth)) {
        throw new IllegalArgumentException("--auth is query or frame, not " + auth);
      }
      fleet.authByFrame = "frame".equals(auth);
      long setup = System.nanoTime();
      fleet.createRooms(rooms, connections / rooms);
      if (capacity) {
        System.out.printf(Locale.ROOT, "# capacity: %d users in %d rooms on %d node(s), set up in %.0f s%n",
          connections, rooms, targets.size(), (System.nanoTime() - setup) / 1e9);
        Capacity.run(vertx, fleet, serverPids, integer("sse", 1_000), integer("connect-rate", 1_000),
          integer("churn", 50), integer("seconds", 20), integer("warmup", WARMUP_SECONDS));
        return;
      }
      long rssBefore = Probe.rssBytes(serverPids);
      long connecting = System.nanoTime();
      fleet.connectAll(200);
      double connectSeconds = (System.nanoTime() - connecting) / 1e9;
      long rssAfter = Probe.rssBytes(serverPids);
      System.out.printf(Locale.ROOT, "# %s: %d connections in %d rooms of %d on %d node(s) %s; set up in %.0f s, "
          + "connected in %.1f s; server RSS %.0f MB, +%.1f KB per connection%n", scenario, connections, rooms,
        connections / rooms, targets.size(), targets, (System.nanoTime() - setup) / 1e9, connectSeconds,
        rssAfter / 1e6, (rssAfter - rssBefore) / 1024.0 / connections);
      System.out.println(Result.HEADER);
      if (sweep) {
        String rates = store ? "2000,5000,10000,15000,20000,25000" : "200,300,400,500,600,750,900,1100";
        // The first step warms up long (see WARMUP_SECONDS); the later ones only settle at their new rate.
        int warmup = integer("warmup", WARMUP_SECONDS);
        for (String rate : options.getOrDefault("rates", rates).split(",")) {
          Result result = measure(fleet, Integer.parseInt(rate), integer("seconds", 20), warmup);
          warmup = integer("step-warmup", 5);
          System.out.println(result.row(scenario, connections, targets.size()));
          if (result.p99Ms() > 100 || result.lost() > 0) {
            System.out.println("# stopped: " + (result.lost() > 0 ? "messages lost" : "p99 above 100 ms"));
            break;
          }
        }
      } else {
        Result result = measure(fleet, integer("rate", 300), integer("seconds", 60), integer("warmup", WARMUP_SECONDS));
        System.out.println(result.row(scenario, connections, targets.size()));
      }
    } finally {
      vertx.close().await();
    }
  }

  /**
   * Seconds of load before a window is measured. On 2 cores the JIT compiler keeps compiling the new load's paths
   * for over a minute: per-thread CPU of a node 70 s into a big room still had C2 at a fifth of a core, and the
   * same run measured from 90 s spent half the server CPU per delivery (21.6 µs instead of 38 to 45).
   */
  static final int WARMUP_SECONDS = 90;

  /** One window at a fixed rate: warm-up first, then the measured seconds, then up to 10 s to drain. */
  Result measure(Fleet fleet, int rate, int seconds, int warmup) throws InterruptedException {
    return measure(fleet, fleet.rooms, rate, seconds, warmup, () -> { });
  }

  /**
   * One window at a fixed rate over {@code rooms}: warm-up first, then the measured seconds, then up to 10 s to
   * drain. {@code everyLoop} runs on each turn of the sending loop (the big room's questions to the assistant).
   */
  Result measure(Fleet fleet, List<Fleet.Room> rooms, int rate, int seconds, int warmup, Runnable everyLoop)
    throws InterruptedException {
    long start = System.nanoTime();
    long interval = 1_000_000_000L / rate;
    long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
    long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
    long expected = 0;
    long serverCpu = 0;
    long ownCpu = 0;
    long machineCpu = 0;
    long databaseCpu = 0;
    List<Long> databasePids = Probe.databasePids();
    long ackedBefore = 0;
    fleet.countFrom = measureFrom;
    fleet.countUntil = end;
    fleet.delivered.set(0);
    boolean measuring = false;
    boolean printTimeline = "true".equals(options.get("timeline"));
    long nextSecond = measureFrom + 1_000_000_000L;
    long sent = 0;
    while (true) {
      long due = start + sent * interval;
      if (due >= end) {
        break;
      }
      long now = System.nanoTime();
      if (printTimeline && now >= nextSecond) {
        Histogram second = fleet.timeline.getIntervalHistogram();
        System.out.printf(Locale.ROOT, "#   +%2d s: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d deliveries%n",
          (nextSecond - measureFrom) / 1_000_000_000L, second.getValueAtPercentile(50) / 1e3,
          second.getValueAtPercentile(99) / 1e3, second.getMaxValue() / 1e3, second.getTotalCount());
        nextSecond += 1_000_000_000L;
      }
      if (due > now) {
        LockSupport.parkNanos(Math.min(due - now, 1_000_000));
        continue;
      }
      if (!measuring && due >= measureFrom) {
        measuring = true;
        fleet.takeLatency();
        serverCpu = Probe.cpuNanos(serverPids);
        ownCpu = Probe.ownCpuNanos();
        machineCpu = Probe.machineBusyNanos();
        databaseCpu = Probe.cpuNanos(databasePids);
        ackedBefore = fleet.acked.get();
      }
      everyLoop.run();
      Fleet.Room room = rooms.get((int) (sent % rooms.size()));
      int deliveries = fleet.publish(room, due);
      if (measuring) {
        expected += deliveries;
      }
      sent++;
    }
    long windowEnd = System.nanoTime();
    double window = (windowEnd - measureFrom) / 1e9;
    serverCpu = Probe.cpuNanos(serverPids) - serverCpu;
    ownCpu = Probe.ownCpuNanos() - ownCpu;
    machineCpu = Probe.machineBusyNanos() - machineCpu;
    databaseCpu = Probe.cpuNanos(databasePids) - databaseCpu;
    long delivered = fleet.delivered.get();
    // What is still in flight may arrive; a message that takes longer than this counts as lost.
    long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (fleet.delivered.get() < expected && System.nanoTime() < drainUntil) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    Histogram latency = fleet.takeLatency();
    long finallyDelivered = fleet.delivered.get();
    int cores = Runtime.getRuntime().availableProcessors();
    return new Result(rate, window, latency, delivered, expected - finallyDelivered, fleet.acked.get() - ackedBefore,
      fleet.refused.get(), serverCpu / 1e3 / Math.max(1, delivered), ownCpu / (window * 1e9 * cores),
      machineCpu / (window * 1e9 * cores), databaseCpu / (window * 1e9 * cores), Probe.rssBytes(serverPids));
  }

  record Result(int rate, double window, Histogram latency, long delivered, long lost, long acked, long refused,
                double serverMicrosPerDelivery, double generatorShare, double machineShare, double databaseShare,
                long serverRss) {

    static final String HEADER = "| scenario | connections | nodes | msg/s | deliveries/s | p50 ms | p95 ms | p99 ms "
      + "| max ms | lost | refused | server CPU µs/delivery | generator CPU | PostgreSQL+Redis CPU | machine CPU "
      + "| server RSS MB |";

    double p99Ms() {
      return latency.getValueAtPercentile(99) / 1e3;
    }

    String row(String scenario, int connections, int nodes) {
      return String.format(Locale.ROOT, "| %s | %d | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %d | %d | %.1f "
          + "| %.0f%% | %.0f%% | %.0f%% | %.0f |", scenario, connections, nodes, rate, delivered / window,
        latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(95) / 1e3, p99Ms(),
        latency.getMaxValue() / 1e3, lost, refused, serverMicrosPerDelivery, generatorShare * 100, databaseShare * 100,
        machineShare * 100, serverRss / 1e6);
    }
  }

  /** A durable PostgreSQL, a Redis, and {@code count} nodes in one cluster on them; answers their HTTP addresses. */
  List<String> startCluster(int count, Map<String, String> extraEnv) throws Exception {
    Path dir = Files.createTempDirectory("parley-bench");
    workDir = dir;
    // Durable unless told otherwise: every commit is flushed to disk, as in production.
    EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(dir.resolve("postgres"),
      !"false".equals(options.get("durable")));
    services.add(postgres);
    EmbeddedRedisServer redis = EmbeddedRedisServer.start(dir.resolve("redis"));
    services.add(redis);
    String database = postgres.database("bench");
    List<Integer> clusterPorts = new ArrayList<>();
    List<Integer> httpPorts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      clusterPorts.add(Ports.free());
      httpPorts.add(Ports.free());
    }
    String seeds = String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    List<String> targets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Map<String, String> env = new HashMap<>();
      env.put("NODE_NAME", "bench-" + (i + 1));
      env.put("HOST", "127.0.0.1");
      env.put("PORT", Integer.toString(httpPorts.get(i)));
      env.put("DATA_DIR", dir.resolve("node-" + (i + 1)).toString());
      env.put("DATABASE_URL", database);
      env.put("REDIS_URL", redis.url());
      env.put("JWT_SECRET", "benchmark-secret-that-is-at-least-32-bytes");
      // Set-up only: thousands of accounts are registered, and bcrypt at its real cost would take minutes.
      env.put("BCRYPT_COST", "4");
      // The generator picks senders at random: no one user sends near a real limit, but spread over a few
      // thousand users the defaults would still refuse some.
      env.put("RATE_LIMIT_MESSAGES_PER_MIN", "1000000");
      env.put("CLUSTER", Boolean.toString(count > 1));
      env.put("CLUSTER_PORT", Integer.toString(clusterPorts.get(i)));
      env.put("CLUSTER_MEMBERS", seeds);
      env.put("LOG_FORMAT", "text");
      env.put("TRANSPORT", transport());
      env.putAll(extraEnv);
      List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx" + options.getOrDefault("node-heap", "2g")));
      if (options.containsKey("node-java")) {
        // e.g. --node-java "-XX:StartFlightRecording=filename=/tmp/node.jfr,settings=profile"
        command.addAll(List.of(options.get("node-java").replace("{node}", Integer.toString(i + 1)).split(" ")));
      }
      command.addAll(List.of("-jar", Path.of("target", "parley.jar").toString()));
      ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true).redirectOutput(dir.resolve("node-" + (i + 1) + ".log").toFile());
      builder.environment().putAll(env);
      started.add(builder.start());
      targets.add("127.0.0.1:" + httpPorts.get(i));
    }
    for (int i = 0; i < count; i++) {
      awaitListening(dir.resolve("node-" + (i + 1) + ".log"), httpPorts.get(i));
    }
    serverPids = started.stream().map(Process::pid).toList();
    System.out.println("# nodes started, logs in " + dir + " (removed at the end unless --keep true)");
    return targets;
  }

  private static void awaitListening(Path log, int port) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains("listening on http://127.0.0.1:" + port)) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException("a node did not start; see " + log);
  }

  private void stop() {
    for (Process process : started) {
      process.destroy();
    }
    for (Process process : started) {
      try {
        process.waitFor(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (AutoCloseable service : services) {
      try {
        service.close();
      } catch (Exception e) {
        System.err.println("could not stop " + service + ": " + e.getMessage());
      }
    }
    if (workDir != null && !"true".equals(options.get("keep"))) {
      try (var paths = Files.walk(workDir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException e) {
        System.err.println("could not remove " + workDir + ": " + e.getMessage());
      }
    }
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
