package dev.parley;

import dev.parley.config.Ports;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.NodeProcess;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another service in the cluster: {@code dev.parley.example.SampleBot} runs in a JVM of its own that joins the
 * cluster with nothing but {@link dev.parley.client.ParleyClient} (no HTTP, no PostgreSQL, no Redis). Parley runs
 * as two node processes, A and B; the bot joins through A, the person talks to B.
 */
@Timeout(180)
@ExtendWith(NodeProcess.LogsOnFailure.class)
class ParleyClientIT {

  private static final Pattern READY = Pattern.compile("sample bot ready in room ([0-9a-f-]{36}) \\(seq (\\d+)\\)");
  private static NodeProcess a;
  private static NodeProcess b;
  private static NodeProcess bot;
  private static int portA;
  private static int portB;
  private static int clusterA;

  @BeforeAll
  static void start() throws Exception {
    String database = TestServices.newDatabase();
    clusterA = Ports.free();
    int clusterB = Ports.free();
    String seeds = "127.0.0.1:" + clusterA + ",127.0.0.1:" + clusterB;
    portA = Ports.free();
    portB = Ports.free();
    a = NodeProcess.start(env("node-a", portA, clusterA, seeds, database));
    b = NodeProcess.start(env("node-b", portB, clusterB, seeds, database));
    a.awaitLog("listening on http://127.0.0.1:" + portA, 120);
    b.awaitLog("listening on http://127.0.0.1:" + portB, 120);
  }

  private static Map<String, String> env(String name, int port, int clusterPort, String seeds, String database) {
    Map<String, String> env = NodeProcess.clusterEnv(name, port, clusterPort, seeds, database);
    env.put("LOG_MESSAGES", "INFO");
    return env;
  }

  @AfterAll
  static void stop() throws InterruptedException {
    for (NodeProcess process : new NodeProcess[] {bot, b, a}) {
      if (process != null) {
        process.close();
      }
    }
  }

  @Test
  void aServiceWithOnlyTheFacadeKeepsARoomPostsAsABotAndHearsItsMembers() throws Exception {
    Session alice;
    try (Api api = new Api(portB)) {
      alice = api.register("alice");
    }
    bot = NodeProcess.startMain("dev.parley.example.SampleBot", Map.of(
      "CLUSTER_HOST", "127.0.0.1",
      "CLUSTER_PORT", Integer.toString(Ports.free()),
      "CLUSTER_MEMBERS", "127.0.0.1:" + clusterA,
      "SAMPLE_BOT_MEMBERS", alice.email()));
    bot.awaitLog("sample bot ready in room", 120);
    Matcher ready = bot.log().stream().map(READY::matcher).filter(Matcher::find).findFirst().orElseThrow();
    String room = ready.group(1);
    long helloSeq = Long.parseLong(ready.group(2));
    assertTrue(bot.log().stream().noneMatch(line -> line.contains("Parley node")),
      "the bot's JVM runs no Parley node of its own");

    try (Ws ws = Ws.open(portB, alice.token())) {
      // The bot posted its greeting through node A's store; alice, on node B, gets it with its seq.
      ws.send(new JsonObject().put("type", "join").put("conversationId", room).put("lastSeq", 0));
      JsonObject hello = ws.await("message", m -> m.getLong("seq") == helloSeq);
      assertEquals("Sample bot", hello.getJsonObject("sender").getString("displayName"));
      assertTrue(hello.getString("content").startsWith("Hello! I am the sample bot"));
      ws.await("resumed");

      // The bot's room subscription, in the other JVM, hears alice; its answers come back to her live, in order.
      JsonObject ack = ws.say(room, "/sample create 3 cats", "cmd-1");
      assertEquals("ack", ack.getString("type"), ack.encode());
      long commandSeq = ack.getLong("seq");
      for (int n = 1; n <= 3; n++) {
        long expected = commandSeq + n;
        JsonObject sample = ws.await("message", m -> m.getLong("seq") == expected);
        assertEquals("Sample " + n + " of 3 about cats.", sample.getString("content"));
        assertEquals(true, sample.getJsonObject("metadata").getBoolean("sample"));
      }

      // The assistant asks the bot's context provider before it answers in the bot's room.
      ws.say(room, "@assistant what is this room for?", "ask-1");
      JsonObject complete = ws.await(f -> "complete".equals(f.getString("type")), 60_000);
      assertEquals(true, complete.getJsonObject("metadata").getBoolean("contextUsed"), complete.encode());
    }
  }


  @Test
  void aMessageIdFollowsTheMessageThroughTheLogsOfEveryNode() throws Exception {
    Session bob;
    Session carol;
    String room;
    try (Api api = new Api(portB)) {
      bob = api.register("bob");
      carol = api.register("carol");
      room = api.conversation(carol, "traced");
      api.post("/api/conversations/" + room + "/members", carol.token(), new JsonObject().put("userId", bob.userId()));
    }
    try (Ws onA = Ws.open(portA, bob.token()).join(room); Ws onB = Ws.open(portB, carol.token()).join(room)) {
      JsonObject ack = onB.say(room, "follow me", "trace-1");
      String id = ack.getString("id");
      onA.await("message", m -> id.equals(m.getString("id")));
      b.awaitLog("message " + id + " seq " + ack.getLong("seq") + " in " + room + " acknowledged to " + carol.userId()
        + " over websocket on node node-b", 10);
      b.awaitLog("message " + id + " seq " + ack.getLong("seq") + " in " + room + " stored by node node-b", 10);
      a.awaitLog("message " + id + " seq " + ack.getLong("seq") + " in " + room
        + " delivered to 1 local subscribers on node node-a", 10);
      b.awaitLog("message " + id + " seq " + ack.getLong("seq") + " in " + room
        + " delivered to 1 local subscribers on node node-b", 10);
    }
  }
}
