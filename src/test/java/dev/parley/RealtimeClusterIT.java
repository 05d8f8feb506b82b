package dev.parley;

import dev.parley.config.Ports;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.NodeProcess;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rooms across real node processes: nodes A and B are {@code java -jar target/parley.jar} processes in one
 * Hazelcast cluster, sharing the test run's PostgreSQL and Redis; the tests that kill or stop a node start a
 * third one, C, for it. Presence expires after 3 s here, so a crashed node's users go offline within ~4 s.
 */
@Timeout(180)
@ExtendWith(NodeProcess.LogsOnFailure.class)
class RealtimeClusterIT {

  private static final int MESSAGES_PER_MINUTE = 30;
  private static final long PRESENCE_TTL_MS = 3_000;
  private static String database;
  private static String seeds;
  private static NodeProcess a;
  private static NodeProcess b;
  private static int portA;
  private static int portB;
  private static Api apiA;
  private static Api apiB;

  @BeforeAll
  static void start() throws Exception {
    database = TestServices.newDatabase();
    int clusterA = Ports.free();
    int clusterB = Ports.free();
    seeds = "127.0.0.1:" + clusterA + ",127.0.0.1:" + clusterB;
    portA = Ports.free();
    portB = Ports.free();
    a = NodeProcess.start(env("node-a", portA, clusterA));
    b = NodeProcess.start(env("node-b", portB, clusterB));
    a.awaitLog("listening on http://127.0.0.1:" + portA, 120);
    b.awaitLog("listening on http://127.0.0.1:" + portB, 120);
    apiA = new Api(portA);
    apiB = new Api(portB);
  }

  private static Map<String, String> env(String name, int port, int clusterPort) {
    Map<String, String> env = NodeProcess.clusterEnv(name, port, clusterPort, seeds, database);
    env.put("PRESENCE_TTL_MS", Long.toString(PRESENCE_TTL_MS));
    env.put("RATE_LIMIT_MESSAGES_PER_MIN", Integer.toString(MESSAGES_PER_MINUTE));
    env.put("SHUTDOWN_GRACE_MS", "5000");
    env.put("HTTP_INSTANCES", "2");
    return env;
  }

  /** A third node joining A and B, for a test that kills or stops it. */
  private record Extra(NodeProcess process, int port) {
  }

  private static Extra extraNode(String name) throws Exception {
    int clusterPort = Ports.free();
    int port = Ports.free();
    Map<String, String> env = env(name, port, clusterPort);
    env.put("CLUSTER_MEMBERS", seeds + ",127.0.0.1:" + clusterPort);
    return new Extra(NodeProcess.started(env, port), port);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    apiA.close();
    apiB.close();
    b.close();
    a.close();
  }

  private static String room(Api api, Session owner, Session... others) {
    String id = api.conversation(owner, "across nodes");
    for (Session other : others) {
      assertEquals(201, api.post("/api/conversations/" + id + "/members", owner.token(),
        new JsonObject().put("userId", other.userId())).status());
    }
    return id;
  }

  /**
   * Waits until node A sees B's new subscription to the room: Hazelcast tells the other nodes of a registration a
   * moment after it is made, and an ephemeral event A publishes before then does not reach B (a message does,
   * read from the store). Typing from A, alternately on and off, until B receives one.
   */
  private static void awaitSubscriptionSeen(Ws onA, Ws onB, String room) {
    for (int attempt = 0; attempt < 50; attempt++) {
      onA.send(new JsonObject().put("type", "typing").put("conversationId", room).put("typing", attempt % 2 == 0));
      try {
        onB.await(f -> "typing".equals(f.getString("type")), 200);
        return;
      } catch (AssertionError notYet) {
        // not seen yet: again
      }
    }
    throw new AssertionError("node B's subscription never became visible to node A");
  }

  private static boolean about(JsonObject frame, Session user) {
    return user.userId().equals(frame.getJsonObject("user", new JsonObject()).getString("id"));
  }

  @Test
  void clientsOnTwoNodesExchangeMessagesTypingAndPresence() {
    Session ann = apiA.register("ann");
    Session ben = apiA.register("ben");
    String id = room(apiA, ann, ben);
    try (Ws onA = Ws.open(portA, ann.token()); Ws onB = Ws.open(portB, ben.token())) {
      onA.join(id);
      onB.join(id);
      assertEquals("online", onA.await("presence", f -> about(f, ben)).getString("state"));

      JsonObject ack = onA.say(id, "hello from A", "a-1");
      assertEquals("ack", ack.getString("type"), ack.encode());
      JsonObject fromA = onB.await("message");
      assertEquals("hello from A", fromA.getString("content"));
      assertEquals(ack.getLong("seq"), fromA.getLong("seq"));

      assertEquals("ack", onB.say(id, "hello from B", "b-1").getString("type"));
      assertEquals("hello from B", onA.await("message", f -> "hello from B".equals(f.getString("content")))
        .getString("content"));

      onB.send(new JsonObject().put("type", "typing").put("conversationId", id).put("typing", true));
      assertTrue(onA.await("typing", f -> about(f, ben)).getBoolean("typing"));

      JsonArray online = apiB.get("/api/conversations/" + id + "/presence", ann.token()).json().getJsonArray("users");
      assertEquals(2, online.size(), "presence is cluster-wide: " + online.encode());
    }
  }

  @Test
  void theAssistantsAnswerReachesAMemberOnTheOtherNode() {
    Session ivy = apiA.register("ivy");
    Session jay = apiA.register("jay");
    String id = room(apiA, ivy, jay);
    try (Ws onA = Ws.open(portA, ivy.token()); Ws onB = Ws.open(portB, jay.token())) {
      onA.join(id);
      onB.join(id);
      awaitSubscriptionSeen(onA, onB, id);
      onA.say(id, "@assistant hello", "as-1");
      assertEquals("routing", onB.await("status").getString("step"));
      JsonObject complete = onB.await("complete");
      assertEquals("assistant", complete.getJsonObject("message").getString("role"));
      assertEquals("greeting", complete.getJsonObject("metadata").getString("intent"));
      assertEquals(complete.getJsonObject("message").getString("id"),
        onB.await("message", f -> "assistant".equals(f.getString("role"))).getString("id"));
    }
  }

  @Test
  void theSameClientMsgIdThroughBothNodesAtOnceStoresOneRow() throws Exception {
    Session cy = apiA.register("cy");
    String id = room(apiA, cy);
    try (Ws onA = Ws.open(portA, cy.token()); Ws onB = Ws.open(portB, cy.token())) {
      for (int round = 0; round < 5; round++) {
        String clientMsgId = "twice-" + round;
        JsonObject frame = new JsonObject().put("type", "message").put("conversationId", id)
          .put("content", "sent twice " + round).put("clientMsgId", clientMsgId);
        onA.send(frame);
        onB.send(frame);
        JsonObject ackA = onA.await("ack", f -> clientMsgId.equals(f.getString("clientMsgId")));
        JsonObject ackB = onB.await("ack", f -> clientMsgId.equals(f.getString("clientMsgId")));
        assertEquals(ackA.getLong("seq"), ackB.getLong("seq"));
        assertEquals(ackA.getString("id"), ackB.getString("id"));
      }
    }
    JsonArray stored = apiB.get("/api/conversations/" + id + "/messages?after=0", cy.token()).json()
      .getJsonArray("messages");
    assertEquals(5, stored.size(), "one row per clientMsgId: " + stored.encode());
  }

  @Test
  void resumeOnTheOtherNodeGetsExactlyWhatWasMissed() {
    Session dot = apiA.register("dot");
    Session eli = apiA.register("eli");
    String id = room(apiA, dot, eli);
    long lastSeen;
    try (Ws sender = Ws.open(portA, dot.token())) {
      try (Ws reader = Ws.open(portA, eli.token())) {
        reader.join(id);
        sender.say(id, "seen 1", "s-1");
        sender.say(id, "seen 2", "s-2");
        reader.await("message", f -> f.getLong("seq") == 1);
        lastSeen = reader.await("message", f -> f.getLong("seq") == 2).getLong("seq");
      }
      for (int i = 1; i <= 5; i++) {
        sender.say(id, "missed " + i, "m-" + i);
      }
      try (Ws resumed = Ws.open(portB, eli.token())) {
        resumed.send(new JsonObject().put("type", "join").put("conversationId", id).put("lastSeq", lastSeen));
        resumed.await("joined");
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          JsonObject message = resumed.await("message");
          assertTrue(message.getString("content").startsWith("missed"));
          seqs.add(message.getLong("seq"));
        }
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L), seqs, "none lost, none twice, in order");
        assertEquals(7, resumed.await("resumed").getLong("toSeq"));
        sender.say(id, "live again", "l-1");
        assertEquals(8, resumed.await("message").getLong("seq"));
        assertTrue(resumed.received().stream().noneMatch(f -> "message".equals(f.getString("type"))));
      }
    }
  }

  @Test
  void theRateLimitIsSharedAcrossNodes() {
    Session fox = apiA.register("fox");
    String id = room(apiA, fox);
    try (Ws onA = Ws.open(portA, fox.token()); Ws onB = Ws.open(portB, fox.token())) {
      for (int i = 0; i < MESSAGES_PER_MINUTE; i++) {
        Ws via = i % 2 == 0 ? onA : onB;
        JsonObject ack = via.say(id, "burst " + i, "r-" + i);
        assertEquals("ack", ack.getString("type"), ack.encode());
      }
      JsonObject refused = onB.say(id, "one too many", "r-over");
      assertEquals("RATE_LIMIT", refused.getString("code"), refused.encode());
      assertTrue(refused.getLong("retryAfterMs") > 0);
      assertEquals("RATE_LIMIT", onA.say(id, "and via A", "r-over-a").getString("code"));
    }
    assertEquals(MESSAGES_PER_MINUTE, apiA.get("/api/conversations/" + id + "/messages?limit=200", fox.token()).json()
      .getJsonArray("messages").size(), "nothing stored over the limit");
  }

  /**
   * Senders on C and A send continuously; C is killed with SIGKILL. Those on C reconnect to A and resend what was
   * not acknowledged, with its clientMsgId. Every acknowledged message is then stored exactly once, the seqs have
   * no gaps, and a client resuming on the survivor replays each once. C's users go offline everywhere.
   */
  @Test
  void killingANodeUnderLoadLosesNoAcknowledgedMessage() throws Exception {
    Extra extra = extraNode("node-c");
    NodeProcess c = extra.process();
    int portC = extra.port();
    try {
      Session owner = apiA.register("owner");
      Session ghost = apiA.register("ghost");
      List<Session> senders = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        senders.add(apiA.register("sender" + i));
      }
      List<Session> members = new ArrayList<>(senders);
      members.add(ghost);
      String id = room(apiA, owner, members.toArray(Session[]::new));

      try (Ws watcher = Ws.open(portB, owner.token()); Ws ghostOnC = Ws.open(portC, ghost.token())) {
        watcher.join(id);
        ghostOnC.join(id);
        watcher.await("presence", f -> about(f, ghost) && "online".equals(f.getString("state")));

        Map<String, Long> acked = new ConcurrentHashMap<>();
        CountDownLatch warmedUp = new CountDownLatch(senders.size() * 4);
        CompletableFuture<Void> killed = new CompletableFuture<>();
        ExecutorService pool = Executors.newFixedThreadPool(senders.size());
        List<Future<?>> runs = new ArrayList<>();
        int perSender = 20;
        for (int s = 0; s < senders.size(); s++) {
          Session sender = senders.get(s);
          int firstPort = s % 2 == 0 ? portC : portA;
          runs.add(pool.submit(() -> {
            send(sender, id, firstPort, perSender, acked, warmedUp, killed);
            return null;
          }));
        }
        // Kill C once some messages went through it.
        assertTrue(warmedUp.await(60, TimeUnit.SECONDS));
        long killedAt = System.nanoTime();
        c.kill9();
        killed.complete(null);
        for (Future<?> run : runs) {
          run.get(90, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(senders.size() * perSender, acked.size(), "every message was acknowledged in the end");

        // Stored exactly once, gapless.
        JsonArray stored = apiA.get("/api/conversations/" + id + "/messages?after=0&limit=200", owner.token()).json()
          .getJsonArray("messages");
        Map<String, Long> storedSeqs = new LinkedHashMap<>();
        for (int i = 0; i < stored.size(); i++) {
          JsonObject message = stored.getJsonObject(i);
          assertEquals(i + 1, message.getLong("seq"), "no seq gaps");
          String key = message.getJsonObject("sender").getString("id") + "/" + message.getString("clientMsgId");
          assertTrue(storedSeqs.put(key, message.getLong("seq")) == null, "stored twice: " + key);
        }
        assertEquals(acked, storedSeqs, "every ack matches the one stored row");

        // A client that resumes on the survivor replays each once.
        try (Ws resumer = Ws.open(portA, owner.token())) {
          resumer.send(new JsonObject().put("type", "join").put("conversationId", id).put("lastSeq", 0));
          resumer.await("joined");
          Set<Long> replayed = new HashSet<>();
          for (int i = 0; i < stored.size(); i++) {
            assertTrue(replayed.add(resumer.await("message").getLong("seq")));
          }
          assertEquals(stored.size(), resumer.await("resumed").getLong("toSeq"));
        }

        // The ghost, who was only on C, goes offline everywhere well within 30 s.
        watcher.await(f -> "presence".equals(f.getString("type")) && about(f, ghost)
          && "offline".equals(f.getString("state")), 30_000);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt);
        assertTrue(seconds < 30, "offline after " + seconds + " s");
        JsonArray online = apiB.get("/api/conversations/" + id + "/presence", owner.token()).json().getJsonArray("users");
        assertTrue(online.stream().noneMatch(u -> ghost.userId().equals(((JsonObject) u).getString("id"))),
          online.encode());
      }
    } finally {
      c.close();
    }
  }

  /**
   * Sends {@code count} messages, each until acknowledged: a socket that dies (its node was killed) is replaced
   * by one on node A, and the unacknowledged message is sent again with the same clientMsgId.
   */
  private static void send(Session sender, String id, int port, int count, Map<String, Long> acked,
                           CountDownLatch progress, CompletableFuture<Void> killed) throws Exception {
    Ws ws = Ws.open(port, sender.token());
    try {
      for (int i = 0; i < count; i++) {
        String clientMsgId = "k-" + i;
        while (true) {
          try {
            JsonObject ack = ws.say(id, "message " + i + " of " + sender.email(), clientMsgId);
            assertEquals("ack", ack.getString("type"), ack.encode());
            acked.put(sender.userId() + "/" + clientMsgId, ack.getLong("seq"));
            progress.countDown();
            break;
          } catch (AssertionError | RuntimeException lost) {
            if (!killed.isDone() && !ws.isClosed()) {
              throw lost;
            }
            killed.get(30, TimeUnit.SECONDS);
            ws.close();
            ws = Ws.open(portA, sender.token());
          }
        }
      }
    } finally {
      ws.close();
    }
  }

  @Test
  void sigtermClosesSocketsWith1012AndTheirUsersGoOfflineAtOnce() throws Exception {
    Extra extra = extraNode("node-d");
    int portD = extra.port();
    try (NodeProcess d = extra.process()) {
      Session gil = apiA.register("gil");
      Session hal = apiA.register("hal");
      String id = room(apiA, gil, hal);
      try (Ws watcher = Ws.open(portA, gil.token()); Ws onD = Ws.open(portD, hal.token())) {
        watcher.join(id);
        onD.join(id);
        watcher.await("presence", f -> about(f, hal) && "online".equals(f.getString("state")));
        long stoppedAt = System.nanoTime();
        d.sigterm();
        assertEquals(1012, onD.awaitClose(15_000));
        watcher.await(f -> "presence".equals(f.getString("type")) && about(f, hal)
          && "offline".equals(f.getString("state")), 10_000);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
        assertTrue(ms < 3_000, "offline " + ms + " ms after SIGTERM");
      }
    }
  }

}
