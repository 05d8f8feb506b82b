package dev.parley;

import dev.parley.config.Ports;
import dev.parley.support.NodeProcess;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar as an operator runs it: {@code java -jar target/parley.jar} in a process of its own, stopped
 * with SIGTERM. Runs after {@code package}, as a Failsafe integration test.
 */
@ExtendWith(NodeProcess.LogsOnFailure.class)
class NodeProcessIT {

  private NodeProcess node;

  @AfterEach
  void kill() throws InterruptedException {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void sigtermLetsAnInFlightRequestFinishThenStopsCleanly() throws Exception {
    int port = Ports.free();
    Map<String, String> env = new HashMap<>();
    env.put("PORT", String.valueOf(port));
    env.put("HOST", "127.0.0.1");
    Path dataDir = TestServices.tempDir("process");
    env.put("DATA_DIR", dataDir.toString());
    // Embedded PostgreSQL and Redis, as a newcomer runs it: they must outlive the drain.
    env.put("DATABASE_URL", "");
    env.put("REDIS_URL", "");
    env.put("JWT_SECRET", Nodes.SECRET);
    env.put("BCRYPT_COST", "4");
    env.put("SHUTDOWN_GRACE_MS", "20000");
    node = NodeProcess.started(env, port);
    Process process = node.process();

    // Redis runs as a child of the node; PostgreSQL detaches (pg_ctl), so it is found by its data directory.
    List<ProcessHandle> embeddedServers = ProcessHandle.allProcesses()
      .filter(p -> p.parent().map(parent -> parent.pid() == process.pid()).orElse(false)
        || p.info().commandLine().map(line -> line.contains(dataDir.toString())).orElse(false))
      .toList();
    assertTrue(embeddedServers.size() >= 2, "PostgreSQL and Redis run beside the node: " + embeddedServers);

    byte[] body = new JsonObject().put("email", "inflight@example.org").put("password", "finish me please")
      .encode().getBytes(StandardCharsets.UTF_8);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      String head = "POST /api/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, 10);
      out.flush();

      node.sigterm();
      node.awaitLog("stopping: draining requests", 30);
      awaitRefused(port);

      // The node no longer accepts connections, yet the request begun before SIGTERM still gets its answer.
      out.write(body, 10, body.length - 10);
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      String status = in.readLine();
      assertEquals("HTTP/1.1 201 Created", status, "the request begun before SIGTERM completes");
    }

    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the node exits");
    node.awaitLog("stopped", 5);
    assertEquals(143, process.exitValue(), "exit status of a JVM ended by SIGTERM after its hooks ran");
    for (ProcessHandle server : embeddedServers) {
      assertTrue(server.onExit().get(10, TimeUnit.SECONDS) != null && !server.isAlive(),
        "embedded server " + server.info().command().orElse("?") + " stopped with the node");
    }
  }

  @Test
  void withLogFormatJsonEveryLineIsAJsonObject() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("LOG_FORMAT", "json");
    env.put("PORT", "eighty");
    env.put("DATA_DIR", TestServices.tempDir("json-log").toString());
    node = NodeProcess.start(env);
    assertTrue(node.process().waitFor(60, TimeUnit.SECONDS), "an invalid PORT stops the node");
    assertEquals(1, node.process().exitValue());
    node.awaitLog("invalid configuration PORT", 5);
    String line = node.log().stream().filter(l -> l.contains("invalid configuration PORT")).findFirst().orElseThrow();
    JsonObject entry = new JsonObject(line);
    assertEquals("ERROR", entry.getString("level"));
    assertEquals("dev.parley.Parley", entry.getString("loggerName"));
    assertTrue(entry.getString("formattedMessage").contains("'eighty' is not a whole number"), line);
    for (String each : node.log()) {
      new JsonObject(each);
    }
  }

  /**
   * Waits until the node stops accepting connections. Nothing outside the process signals that moment, so this
   * polls, a connection attempt every 20 ms, for at most 10 s.
   */
  private static void awaitRefused(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket probe = new Socket("127.0.0.1", port)) {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (IOException refused) {
        return;
      }
    }
    throw new AssertionError("the node still accepts connections 10 s after SIGTERM");
  }

}
