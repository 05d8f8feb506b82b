package dev.parley.faults;

import dev.parley.config.Ports;
import dev.parley.support.Api;
import dev.parley.support.NodeProcess;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Nodes as real processes on loopback in one Hazelcast cluster, for the fault suite. They read a copy of
 * {@code conf/cluster.xml} with failure detection shortened (this is the only test-only setting): a silent member
 * is removed after {@link #MAX_NO_HEARTBEAT_SECONDS}, and a member cut off merges back within a few seconds.
 */
final class FaultCluster implements AutoCloseable {

  static final int MAX_NO_HEARTBEAT_SECONDS = 5;
  private static final int MERGE_DELAY_SECONDS = 3;

  private final String database = TestServices.newDatabase();
  private final Map<String, String> settings;
  private final Path clusterXml = writeClusterXml();
  private final List<String> seeds = new ArrayList<>();
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();

  /** @param settings environment every node gets on top of {@link NodeProcess#clusterEnv} */
  FaultCluster(Map<String, String> settings) {
    this.settings = settings;
  }

  /** Starts {@code count} more nodes at once and waits until each listens; returns their indexes. */
  List<Integer> start(int count) throws Exception {
    List<Integer> started = new ArrayList<>();
    List<Map<String, String>> envs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int clusterPort = Ports.free();
      seeds.add("127.0.0.1:" + clusterPort);
      int port = Ports.free();
      Map<String, String> env = NodeProcess.clusterEnv("node-" + (nodes.size() + i), port, clusterPort, "", database);
      env.putAll(settings);
      env.put("PARLEY_CLUSTER_CONFIG", clusterXml.toString());
      envs.add(env);
      ports.add(port);
    }
    for (Map<String, String> env : envs) {
      env.put("CLUSTER_MEMBERS", String.join(",", seeds));
      started.add(nodes.size());
      nodes.add(NodeProcess.start(env));
    }
    for (int i : started) {
      nodes.get(i).awaitLog("listening on http://127.0.0.1:" + ports.get(i), 120);
    }
    return started;
  }

  NodeProcess node(int i) {
    return nodes.get(i);
  }

  int size() {
    return nodes.size();
  }

  int port(int i) {
    return ports.get(i);
  }

  List<Integer> ports() {
    return List.copyOf(ports);
  }

  /** The members node {@code i} sees, from its {@code /ready} (0 when it is not a live member or does not answer). */
  int members(int i) {
    try (Api api = new Api(ports.get(i))) {
      JsonObject ready = api.get("/ready", null).json();
      JsonArray checks = ready == null ? new JsonArray() : ready.getJsonArray("checks", new JsonArray());
      for (int c = 0; c < checks.size(); c++) {
        JsonObject check = checks.getJsonObject(c);
        if ("cluster".equals(check.getString("id"))) {
          return check.getJsonObject("data", new JsonObject()).getInteger("members", 0);
        }
      }
      return 0;
    } catch (RuntimeException unreachable) {
      return 0;
    }
  }

  /** Waits until node {@code i} sees {@code expected} members, polling every 100 ms; returns how long it took. */
  long awaitMembers(int i, int expected, long timeoutMs) throws InterruptedException {
    long started = System.nanoTime();
    while (members(i) != expected) {
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      if (waited > timeoutMs) {
        throw new AssertionError("node-" + i + " sees " + members(i) + " members, not " + expected + ", after "
          + waited + " ms");
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
  }

  private static Path writeClusterXml() {
    try {
      String xml = Files.readString(Path.of("conf", "cluster.xml"));
      xml = setProperty(xml, "hazelcast.max.no.heartbeat.seconds", MAX_NO_HEARTBEAT_SECONDS);
      xml = setProperty(xml, "hazelcast.merge.first.run.delay.seconds", MERGE_DELAY_SECONDS);
      xml = setProperty(xml, "hazelcast.merge.next.run.delay.seconds", MERGE_DELAY_SECONDS);
      Path file = TestServices.tempDir("cluster-xml").resolve("cluster.xml");
      Files.writeString(file, xml);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String setProperty(String xml, String name, int value) {
    String pattern = "<property name=\"" + name + "\">[^<]*</property>";
    String replaced = xml.replaceAll(pattern, "<property name=\"" + name + "\">" + value + "</property>");
    if (replaced.equals(xml)) {
      throw new IllegalStateException(name + " is not in conf/cluster.xml");
    }
    return replaced;
  }

  /** Every node still running gets SIGTERM (and SIGCONT first, should it be paused). */
  @Override
  public void close() throws Exception {
    for (NodeProcess node : nodes) {
      if (node.process().isAlive()) {
        node.unpause();
      }
      node.close();
    }
  }
}
