package dev.parley.faults;

import dev.parley.bench.Probe;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Jwts;
import dev.parley.support.NodeProcess;
import dev.parley.support.Nodes;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault suite's rows about hostile or broken clients (issue 7): oversized, malformed and compressed frames,
 * forged tokens and foreign origins, a consumer that stops reading, and one user flooding through two nodes. Two
 * nodes as real processes; each row measures the node it attacks from the outside ({@code /proc}, {@code /metrics}).
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(NodeProcess.LogsOnFailure.class)
class AbuseFaultIT {

  private static final String ORIGIN = "https://chat.example.org";
  /** Enough for the slow-consumer row's 5 messages a second per user; the flood is 100 times over it. */
  private static final int LIMIT_PER_MINUTE = 600;
  private static FaultCluster cluster;
  private static Api api;

  @BeforeAll
  static void start() throws Exception {
    // A fixed, pre-touched heap, as production runs a JVM: the RSS figures then show what an attack makes the node
    // keep, not the garbage collector deciding to grow the heap.
    cluster = new FaultCluster(Map.of("JAVA_TOOL_OPTIONS", "-Xms256m -Xmx256m -XX:+AlwaysPreTouch",
      "WS_ORIGINS", ORIGIN,
      "RATE_LIMIT_MESSAGES_PER_MIN", Integer.toString(LIMIT_PER_MINUTE)));
    cluster.start(2);
    api = new Api(cluster.port(0));
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
    cluster.close();
  }

  /**
   * Forged tokens ({@code alg: none}, another key, expired, another audience) and a foreign {@code Origin}: every
   * handshake is refused before the upgrade, and a good one still passes.
   */
  @Test
  @Order(1)
  void forgedTokensAndForeignOriginsNeverUpgrade() throws Exception {
    Session eve = api.register("eve");
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = Jwts.claims(eve.userId(), now + 3600);
    Map<String, String> forged = Map.of(
      "alg none", Jwts.none(claims),
      "another key", Jwts.hs256(claims, "another-secret-that-is-at-least-32-bytes"),
      "expired", Jwts.hs256(Jwts.claims(eve.userId(), now - 10), Nodes.SECRET),
      "another audience", Jwts.hs256(claims.copy().put("aud", "someone-else"), Nodes.SECRET));
    int each = FaultRow.scaled(250, 50);
    Vertx vertx = Vertx.vertx();
    try {
      WebSocketClient client = vertx.createWebSocketClient();
      FaultRow row = FaultRow.of("JWT abuse and foreign origins, " + each + " handshakes of each kind");
      for (Map.Entry<String, String> token : forged.entrySet()) {
        List<Integer> statuses = handshakes(client, "/ws/chat?token=" + token.getValue(), null, each);
        long refused = statuses.stream().filter(status -> status == 401).count();
        row.figure(token.getKey() + ": " + refused + " of " + each + " refused with 401", "all, no upgrade",
          refused == each);
      }
      List<Integer> foreign = handshakes(client, "/ws/chat?token=" + eve.token(), "https://evil.example", each);
      long forbidden = foreign.stream().filter(status -> status == 403).count();
      row.figure("Origin not allowed: " + forbidden + " of " + each + " refused with 403", "all, no upgrade",
        forbidden == each);
      List<Integer> good = handshakes(client, "/ws/chat?token=" + eve.token(), ORIGIN, 1);
      row.figure("the allowed origin with a good token: " + good.get(0), "101", good.get(0) == 101);
      row.report();
    } finally {
      vertx.close().await();
    }
  }

  /** {@code count} handshakes, 25 at a time: the status each got (101 when it upgraded). */
  private static List<Integer> handshakes(WebSocketClient client, String path, String origin, int count) {
    List<Integer> statuses = new ArrayList<>();
    for (int from = 0; from < count; from += 25) {
      List<Future<Integer>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(count, from + 25); i++) {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(cluster.port(0))
          .setURI(path);
        if (origin != null) {
          options.addHeader("Origin", origin);
        }
        batch.add(client.connect(options)
          .compose(socket -> socket.close().map(101))
          .recover(failure -> Future.succeededFuture(failure instanceof UpgradeRejectedException rejected
            ? rejected.getStatus() : -1)));
      }
      Future.all(batch).await();
      batch.forEach(status -> statuses.add(status.result()));
    }
    return statuses;
  }

  /**
   * 1 MiB frames, 10,000 malformed frames (not JSON, unknown types, missing fields, binary, JSON nested 5,000
   * deep) and compression bombs (a compressed frame nobody negotiated, a gzip request body of 100 MB of zeros):
   * the node answers each as documented, never crashes, and its RSS grows by less than 20 MB. The attack runs twice
   * and the second round is measured: what a node keeps from an attack shows there, while the first also holds the
   * JIT's code and the heap's first growth (printed too).
   */
  @Test
  @Order(2)
  void oversizedMalformedAndCompressedInputNeitherCrashesNorGrowsTheNode() throws Exception {
    Session mal = api.register("mal");
    String room = api.conversation(mal, "abuse");
    int port = cluster.port(1);
    long pid = cluster.node(1).process().pid();
    int bigFrames = FaultRow.scaled(100, 30);
    long first = Probe.rssBytes(List.of(pid));
    attack(port, mal, room, bigFrames, 10_000);
    long before = Probe.rssBytes(List.of(pid));
    Attack result = attack(port, mal, room, bigFrames, 10_000);
    TimeUnit.SECONDS.sleep(2);
    long after = Probe.rssBytes(List.of(pid));
    double growthMb = (after - before) / 1e6;
    double firstGrowthMb = (before - first) / 1e6;
    try (Api onNode = new Api(port); Metrics metrics = new Metrics(port)) {
      boolean alive = cluster.node(1).process().isAlive() && onNode.get("/health", null).status() == 200;
      FaultRow.of("1 MiB frames, 10,000 malformed frames, compression bombs")
        .figure("the sockets of " + bigFrames + " 1 MiB frames ended by close code (-1: reset mid-frame): "
          + result.bigCloses(), "all closed with 1009 or reset",
          result.bigCloses().keySet().stream().allMatch(code -> code == 1009 || code == -1))
        .figure(result.invalid() + " of 10000 malformed frames answered INVALID_INPUT, socket still open: "
          + result.stillOpen(), "all", result.invalid() == 10_000 && result.stillOpen())
        .figure("permessage-deflate offered: " + (result.deflateDeclined() ? "declined" : "ACCEPTED")
          + "; a compressed frame closed the socket with " + result.compressedClose() + " (-1: reset)",
          "declined, closed with 1002 or reset", result.deflateDeclined()
            && (result.compressedClose() == 1002 || result.compressedClose() == -1))
        .figure("gzip body of 100 MB of zeros answered " + result.gzipStatus(), "4xx, not inflated",
          result.gzipStatus() / 100 == 4)
        .figure("node alive and healthy: " + alive, "0 crashes", alive)
        .figure(String.format("RSS %+.1f MB over the attack (%.0f → %.0f MB), after a first identical round that "
          + "grew it %+.1f MB (the JIT, the heap's first growth)", growthMb, before / 1e6, after / 1e6, firstGrowthMb),
          "< 20 MB", growthMb < 20)
        .note(String.format("heap committed %.0f MB, used %.0f MB; non-heap committed %.0f MB; direct buffers %.0f MB",
          metrics.sum("jvm_memory_committed_bytes", Metrics.HEAP) / 1e6, metrics.sum(Metrics.HEAP_USED, Metrics.HEAP) / 1e6,
          metrics.sum("jvm_memory_committed_bytes", "area=\"nonheap\"") / 1e6,
          metrics.sum("jvm_buffer_memory_used_bytes", "id=\"direct\"") / 1e6))
        .report();
    }
  }

  /** {@code bigCloses}: how the sockets of the 1 MiB frames ended, by close code (-1: reset, no close frame). */
  private record Attack(Map<Integer, Integer> bigCloses, int invalid, boolean stillOpen, boolean deflateDeclined, int compressedClose,
                        int gzipStatus) {
  }

  private static Attack attack(int port, Session user, String room, int bigFrames, int malformed) throws Exception {
    String path = "/ws/chat?token=" + user.token();
    Map<Integer, Integer> bigCloses = new java.util.TreeMap<>();
    byte[] mebibyte = ("{\"type\":\"message\",\"conversationId\":\"" + room + "\",\"content\":\""
      + "a".repeat(1 << 20) + "\"}").getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bigFrames; i++) {
      try (RawSocket socket = RawSocket.open(port, path, "")) {
        try {
          socket.frame(RawSocket.OPCODE_TEXT, false, mebibyte);
        } catch (IOException closedWhileWriting) {
          // the server may close before the whole frame is written; its close frame is still there to read
        }
        bigCloses.merge(socket.awaitClose(), 1, Integer::sum);
      }
    }

    int invalid = 0;
    boolean stillOpen;
    try (RawSocket socket = RawSocket.open(port, path, "")) {
      String deep = "[".repeat(5_000) + "]".repeat(5_000);
      String[] bad = {"not json", "[1,2,3]", "{\"type\":\"nonsense\"}", "{\"type\":\"message\"}",
        "{\"type\":\"join\",\"conversationId\":42}", deep, "{\"type\":\"message\",\"conversationId\":\"" + room
        + "\",\"content\":{\"nested\":true}}", "\"just a string\"", "{", "null"};
      // Sent in bursts of 100 and read back, so the node's answers never pile up behind a reader that is not reading.
      for (int from = 0; from < malformed; from += 100) {
        for (int i = from; i < from + 100; i++) {
          if (i % 10 == 9) {
            socket.frame(0x2, false, new byte[] {1, 2, 3});
          } else {
            socket.text(bad[i % bad.length]);
          }
        }
        for (int answered = 0; answered < 100; ) {
          RawSocket.Frame frame = socket.read();
          if (frame == null) {
            break;
          }
          String text = frame.opcode() == RawSocket.OPCODE_TEXT ? frame.text() : "";
          if (text.contains("\"type\":\"error\"")) {
            answered++;
            if (text.contains("INVALID_INPUT")) {
              invalid++;
            }
          }
        }
      }
      socket.text("{\"type\":\"ping\"}");
      RawSocket.Frame frame = socket.read();
      while (frame != null && !frame.text().contains("pong")) {
        frame = socket.read();
      }
      stillOpen = frame != null;
    }

    boolean declined;
    int compressedClose;
    try (RawSocket socket = RawSocket.open(port, path,
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")) {
      declined = socket.upgraded() && !socket.handshake.toLowerCase().contains("permessage-deflate");
      socket.frame(RawSocket.OPCODE_TEXT, true, deflate(new byte[10 << 20]));
      compressedClose = socket.awaitClose();
    }

    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(zipped)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 100; i++) {
        gzip.write(zeros);
      }
    }
    int gzipStatus;
    try (Api onNode = new Api(port)) {
      gzipStatus = onNode.raw(HttpMethod.POST, "/api/conversations/" + room + "/messages", "Bearer " + user.token(),
        Buffer.buffer(zipped.toByteArray()), MultiMap.caseInsensitiveMultiMap().add("Content-Encoding", "gzip")
          .add("Content-Type", "application/json")).status();
    }
    return new Attack(bigCloses, invalid, stillOpen, declined, compressedClose, gzipStatus);
  }

  private static byte[] deflate(byte[] data) {
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    deflater.setInput(data);
    deflater.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    while (!deflater.finished()) {
      out.write(chunk, 0, deflater.deflate(chunk));
    }
    deflater.end();
    return out.toByteArray();
  }

  /**
   * A consumer that stops reading in a room of 20 busy members (100 messages a second of 7.9 KB, enough to fill the
   * kernel's buffers for it within seconds: at a trickle TCP hides a stalled reader for a long time): it is closed
   * with 4002 within 10 s, the node's heap grows by less than 50 MB, and the others' p99 stays within 20 % of what it
   * was without it, measured before it connects and after it is gone.
   */
  @Test
  @Order(3)
  void aSlowConsumerIsClosedWithoutHurtingTheOthers() throws Exception {
    int port = cluster.port(0);
    int phaseSeconds = FaultRow.scaled(15, 8);
    try (Crowd crowd = new Crowd(List.of(port)); Metrics metrics = new Metrics(port)) {
      Map<String, Session> owners = Rooms.populate(api, crowd, 1, 20, 1);
      String room = owners.keySet().iterator().next();
      Session slowUser = api.register("slow");
      api.post("/api/conversations/" + room + "/members", owners.get(room).token(),
        new JsonObject().put("userId", slowUser.userId()));
      crowd.padding(7_900);
      crowd.connectAll();
      crowd.publish(100, user -> true);
      // The same load first, unmeasured, until the JIT is done with it: two cores are shared by every process here.
      TimeUnit.SECONDS.sleep(FaultRow.scaled(20, 10));
      SlowConsumerAttempt attempt = slowConsumer(crowd, metrics, port, room, slowUser, phaseSeconds);
      SlowConsumerAttempt first = null;
      if (!attempt.othersWithin()) {
        // Once more, from a new baseline: a harm the slow consumer does shows again; a few bad seconds of two
        // shared cores (CI once saw the others' p99 at 30 ms against 12.5 ms, where the baseline alone moves
        // between 10 and 30 ms from one second to the next) do not.
        first = attempt;
        attempt = slowConsumer(crowd, metrics, port, room, slowUser, phaseSeconds);
      }
      crowd.stopPublishing();
      FaultRow row = FaultRow.of("a consumer that stops reading, in a room of 20 at 100 msg/s of 7.9 KB");
      for (SlowConsumerAttempt each : first == null ? List.of(attempt) : List.of(first, attempt)) {
        row.figure("closed with " + each.code() + " after " + each.closedAfterMs() + " ms (within 200 ms)",
            "4002, ≤ 10000 ms", each.code() == 4002 && each.closedAfterMs() >= 0 && each.closedAfterMs() <= 10_000)
          .figure(String.format("heap %+.1f MB at its highest against the same load without it", each.heapGrowthMb()),
            "< 50 MB", each.heapGrowthMb() < 50);
      }
      if (first != null) {
        row.note("the first attempt missed: " + Crowd.compare(first.without(), first.others(), "without it"));
      }
      row.figure(Crowd.compare(attempt.without(), attempt.others(), "without it, before and after"), "within 20 %",
          attempt.othersWithin())
        .report();
    }
  }

  /** One slow consumer's figures: how it was closed, the heap, the others' latency with it and around it. */
  private record SlowConsumerAttempt(int code, long closedAfterMs, double heapGrowthMb, Crowd.Phase without,
                                     Crowd.Phase others) {
    boolean othersWithin() {
      return Crowd.withinTwentyPercent(without, others);
    }
  }

  /**
   * The others measured without a slow consumer, then while one joins and stops reading until it is closed, then
   * without it again; the reference is the two windows without it together.
   */
  private static SlowConsumerAttempt slowConsumer(Crowd crowd, Metrics metrics, int port, String room,
                                                  Session slowUser, int phaseSeconds) throws Exception {
    crowd.takeLatency();
    java.util.concurrent.CompletableFuture<Metrics.Peak> quietHeap = heapPeak(metrics, phaseSeconds, () -> false);
    Crowd.Phase before = crowd.measure(phaseSeconds);
    double heapBefore = quietHeap.get().heapBytes();

    String closes = "parley_slow_consumers_closed_total";
    double closedBefore = metrics.sum(closes, "");
    Metrics.Peak during;
    Crowd.Phase others;
    long stoppedReading;
    int code;
    try (RawSocket slow = RawSocket.open(port, "/ws/chat?token=" + slowUser.token(), "", 4096)) {
      slow.text(new JsonObject().put("type", "join").put("conversationId", room).encode());
      stoppedReading = System.nanoTime();
      var slowHeap = heapPeak(metrics, phaseSeconds, () -> metrics.sum(closes, "") > closedBefore);
      others = crowd.measure(phaseSeconds);
      during = slowHeap.get();
      code = slow.awaitClose();
    }
    // Without it again, sampled the same way: the reference brackets the phase with it, so what two shared cores
    // drift by over half a minute (another process compiling, a checkpoint) is not taken for its doing.
    java.util.concurrent.CompletableFuture<Metrics.Peak> quietAgain = heapPeak(metrics, phaseSeconds, () -> false);
    Crowd.Phase after = crowd.measure(phaseSeconds);
    quietAgain.get();
    long closedAfterMs = during.eventAt() < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(during.eventAt() - stoppedReading);
    return new SlowConsumerAttempt(code, closedAfterMs, (during.heapBytes() - heapBefore) / 1e6, before.and(after),
      others);
  }

  /**
   * One user floods through both nodes at 1,000 messages a second (500 on each) while 20 others chat at 20 a
   * second: over the whole flood the user gets no more than the cluster-wide limit allows (its burst, then its rate),
   * and the others' p99 stays within 20 % of what it was without the flood, measured before it and after it. The
   * flood runs once unmeasured first: on two cores the JIT compiling the refusal path in every JVM would otherwise be
   * what the others feel.
   */
  @Test
  @Order(4)
  void oneUserFloodingThroughTwoNodesIsCutAtTheLimit() throws Exception {
    int seconds = FaultRow.scaled(10, 5);
    Session flooder = api.register("flooder");
    String floodRoom = api.conversation(flooder, "flood");
    List<Long> nodes = List.of(cluster.node(0).process().pid(), cluster.node(1).process().pid());
    try (Crowd others = new Crowd(cluster.ports()); Crowd flood = new Crowd(cluster.ports())) {
      Rooms.populate(api, others, 2, 10, 2);
      flood.add(flooder.userId(), flooder.token(), floodRoom, 0);
      flood.add(flooder.userId(), flooder.token(), floodRoom, 1);
      others.connectAll();
      flood.connectAll();
      others.publish(20, user -> true);
      long floodStarted = System.nanoTime();
      flood.publish(1_000, user -> true);
      TimeUnit.SECONDS.sleep(FaultRow.scaled(20, 10));
      flood.stopPublishing();
      TimeUnit.SECONDS.sleep(2);

      FloodAttempt attempt = floodOnce(others, flood, nodes, seconds);
      FloodAttempt first = null;
      if (!attempt.othersWithin()) {
        // Once more, from a new baseline, as for the slow consumer: a harm the flood does shows again; a few bad
        // seconds of two cores shared by three JVMs and the databases (CI once saw 16.2 ms against 12.2 ms) do not.
        first = attempt;
        attempt = floodOnce(others, flood, nodes, seconds);
      }
      double elapsed = (System.nanoTime() - floodStarted) / 1e9;
      long accepted = flood.sum(user -> (long) user.acked.size());
      others.stopPublishing();
      // A burst of the whole limit, then its rate: all the limit allows since the flood began (one more at the edge).
      double allowed = Math.floor(LIMIT_PER_MINUTE + LIMIT_PER_MINUTE * elapsed / 60.0) + 1;
      long sent = 1_000L * seconds;
      FaultRow row = FaultRow.of("one user flooding through 2 nodes at 1,000 msg/s, limit " + LIMIT_PER_MINUTE + "/min")
        .figure(String.format("%d accepted in the %.0f s since the flood began", accepted, elapsed),
          String.format("≤ %.0f × 1.05", allowed), accepted <= allowed * 1.05)
        .note("in the measured " + seconds + " s: " + attempt.accepted() + " accepted, " + attempt.refused()
          + " refused with RATE_LIMIT, the rest of " + sent + " not read yet: the nodes stop reading a socket over the "
          + "limit until it allows a message");
      if (first != null) {
        row.note("the first attempt missed: " + Crowd.compare(first.without(), first.during(), "without the flood"));
      }
      row.figure(Crowd.compare(attempt.without(), attempt.during(), "without the flood, before and after"),
          "within 20 %", attempt.othersWithin())
        .note(attempt.beforeAndAfter())
        .note(String.format("the nodes' CPU %.0f %% of a core without the flood, %.0f %% with it; the generator's "
          + "%.0f %% with it", attempt.cpuQuiet() / 1e7 / seconds, attempt.cpuFlood() / 1e7 / seconds,
          attempt.ownCpu() / 1e7 / seconds))
        .report();
    }
  }

  /** One flood's figures: the others without it (before and after) and with it, what it got, what the CPUs did. */
  private record FloodAttempt(Crowd.Phase before, Crowd.Phase after, Crowd.Phase during, long accepted, long refused,
                              long cpuQuiet, long cpuFlood, long ownCpu) {
    Crowd.Phase without() {
      return before.and(after);
    }

    /** The two windows without it apart: a flood that left lasting harm would show in the second. */
    String beforeAndAfter() {
      return String.format("without the flood, p99 %.1f ms before it and %.1f ms after it", before.p99Ms(),
        after.p99Ms());
    }

    boolean othersWithin() {
      return Crowd.withinTwentyPercent(without(), during);
    }
  }

  /**
   * The others measured without the flood, then with it, then without it again; the reference is the two windows
   * without it together, so what two shared cores drift by over half a minute is not taken for the flood's doing.
   */
  private static FloodAttempt floodOnce(Crowd others, Crowd flood, List<Long> nodes, int seconds) throws Exception {
    long cpu = Probe.cpuNanos(nodes);
    Crowd.Phase before = others.measure(seconds);
    long cpuQuiet = Probe.cpuNanos(nodes) - cpu;

    cpu = Probe.cpuNanos(nodes);
    long ownCpu = Probe.ownCpuNanos();
    long acceptedBefore = flood.sum(user -> (long) user.acked.size());
    long refusedBefore = flood.sum(user -> user.refused);
    flood.publish(1_000, user -> true);
    Crowd.Phase during = others.measure(seconds);
    flood.stopPublishing();
    long cpuFlood = Probe.cpuNanos(nodes) - cpu;
    ownCpu = Probe.ownCpuNanos() - ownCpu;
    long accepted = flood.sum(user -> (long) user.acked.size()) - acceptedBefore;
    long refused = flood.sum(user -> user.refused) - refusedBefore;

    TimeUnit.SECONDS.sleep(2);
    Crowd.Phase after = others.measure(seconds);
    return new FloodAttempt(before, after, during, accepted, refused, cpuQuiet, cpuFlood, ownCpu);
  }

  /** Samples the node's heap in the background while the test thread measures latency. */
  private static java.util.concurrent.CompletableFuture<Metrics.Peak> heapPeak(Metrics metrics, int seconds,
                                                                            java.util.function.BooleanSupplier event) {
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return metrics.heapPeak(seconds, event);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    });
  }
}
