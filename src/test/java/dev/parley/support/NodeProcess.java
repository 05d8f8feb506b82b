package dev.parley.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The packaged jar as an operator runs it: {@code java -jar target/parley.jar} in a process of its own, with
 * its settings in the environment, its log collected line by line. For integration tests (Failsafe, after
 * {@code package}).
 */
public final class NodeProcess implements AutoCloseable {

  /** Every node started in this JVM, for {@link LogsOnFailure}. */
  private static final List<NodeProcess> STARTED = new CopyOnWriteArrayList<>();
  private static final int LOG_LINES_ON_FAILURE = 150;

  private final Process process;
  private final String name;
  private final List<String> log = new CopyOnWriteArrayList<>();

  private NodeProcess(Process process, String name) {
    this.process = process;
    this.name = name;
    STARTED.add(this);
    Thread reader = new Thread(this::readLog, "node-log-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts a node; {@code env} adds to (and overrides) the test JVM's environment. Blank values unset a key. */
  public static NodeProcess start(Map<String, String> env) throws IOException {
    return start(env, "-jar", Path.of("target", "parley.jar").toString());
  }

  /** Runs another main class of the jar ({@code java -cp target/parley.jar mainClass}), with {@code env}. */
  public static NodeProcess startMain(String mainClass, Map<String, String> env) throws IOException {
    return start(env, "-cp", Path.of("target", "parley.jar").toString(), mainClass);
  }

  private static NodeProcess start(Map<String, String> env, String... command) throws IOException {
    // Vert.x unpacks classpath files it serves (the web client) into a cache directory; a node killed with SIGKILL
    // cannot remove it, so it lives in the test run's own directory, which goes when the run ends.
    List<String> line = new java.util.ArrayList<>(List.of(javaBinary(),
      "-Dvertx.cacheDirBase=" + TestServices.tempDir("vertx-cache")));
    line.addAll(List.of(command));
    ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
    builder.environment().putAll(env);
    return new NodeProcess(builder.start(), env.getOrDefault("NODE_NAME", String.join(" ", command)));
  }

  /** Starts a node and waits until it listens on {@code port}. */
  public static NodeProcess started(Map<String, String> env, int port) throws IOException, InterruptedException {
    NodeProcess node = start(env);
    node.awaitLog("listening on http://127.0.0.1:" + port, 120);
    return node;
  }

  /**
   * The environment of a cluster member on the test run's PostgreSQL and Redis: its name, HTTP and Hazelcast
   * ports, the seeds, the shared JWT key, a fast bcrypt, and a presence TTL of 3 s. Callers add or change keys.
   */
  public static Map<String, String> clusterEnv(String name, int port, int clusterPort, String seeds, String database) {
    Map<String, String> env = new java.util.HashMap<>();
    env.put("NODE_NAME", name);
    env.put("PORT", Integer.toString(port));
    env.put("HOST", "127.0.0.1");
    env.put("DATA_DIR", TestServices.tempDir(name).toString());
    env.put("DATABASE_URL", database);
    env.put("REDIS_URL", TestServices.redisUrl());
    env.put("JWT_SECRET", Nodes.SECRET);
    env.put("BCRYPT_COST", "4");
    env.put("CLUSTER", "true");
    env.put("CLUSTER_PORT", Integer.toString(clusterPort));
    env.put("CLUSTER_MEMBERS", seeds);
    env.put("PRESENCE_TTL_MS", "3000");
    return env;
  }

  public Process process() {
    return process;
  }

  public List<String> log() {
    return log;
  }

  /** SIGTERM, as an orchestrator stops a node. Not Process.destroy(), which also closes our end of its output. */
  public void sigterm() {
    process.toHandle().destroy();
  }

  /** SIGKILL: the node dies at once, saying goodbye to nobody. */
  public void kill9() throws InterruptedException {
    process.toHandle().destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGSTOP: the node freezes, sockets open, as in a long GC pause or a stalled VM. */
  public void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** SIGCONT after {@link #pause}. */
  public void unpause() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill " + signal + " " + process.pid() + " failed");
    }
  }

  public void awaitLog(String text, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    synchronized (log) {
      while (log.stream().noneMatch(line -> line.contains(text))) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new AssertionError("no log line with '" + text + "' in:\n" + String.join("\n", log));
        }
        log.wait(Math.min(left, 500));
      }
    }
  }

  private void readLog() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        log.add(line);
        synchronized (log) {
          log.notifyAll();
        }
      }
    } catch (IOException ignored) {
      // the process is gone
    }
  }

  /** After a test: SIGTERM first, so the node still stops what it started; SIGKILL only if it hangs. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      sigterm();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  /**
   * On a failed test, the end of the log of every node this JVM started (the failsafe report keeps it): a
   * failure across processes is otherwise a guess.
   */
  public static final class LogsOnFailure implements org.junit.jupiter.api.extension.TestWatcher {
    @Override
    public void testFailed(org.junit.jupiter.api.extension.ExtensionContext context, Throwable cause) {
      for (NodeProcess node : STARTED) {
        List<String> lines = node.log;
        System.out.println("----- last lines of " + node.name + " (pid " + node.process.pid()
          + (node.process.isAlive() ? "" : ", ended") + ") after " + context.getDisplayName() + " failed -----");
        lines.subList(Math.max(0, lines.size() - LOG_LINES_ON_FAILURE), lines.size()).forEach(System.out::println);
      }
    }
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
