package dev.parley;

import dev.parley.config.EmbeddedRedisServer;
import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.LogCapture;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When things go wrong around a socket: Redis gone, a peer gone silent. Each test has a node of its own. */
@Timeout(60)
class RealtimeDegradedTest {

  private Parley node;
  private Api api;
  private EmbeddedRedisServer redis;

  @AfterEach
  void stop() throws Exception {
    if (api != null) {
      api.close();
    }
    if (node != null) {
      node.stop().await();
    }
    if (redis != null) {
      redis.close();
    }
  }

  /** A node on a Redis of its own, which the test then stops. */
  private void startWithOwnRedis(boolean failOpen) throws Exception {
    redis = EmbeddedRedisServer.start(TestServices.tempDir("redis-outage"));
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), redis.url()).put("RATE_LIMIT_FAIL_OPEN", failOpen));
    api = new Api(node.httpPort());
  }

  @Test
  void withRedisDownChatKeepsWorkingAndLimitsFailOpen() throws Exception {
    startWithOwnRedis(true);
    Session ida = api.register("ida");
    Session jay = api.register("jay");
    String id = api.conversation(ida, "no redis");
    api.post("/api/conversations/" + id + "/members", ida.token(), new JsonObject().put("userId", jay.userId()));
    try (Ws a = Ws.open(node.httpPort(), ida.token()); Ws b = Ws.open(node.httpPort(), jay.token())) {
      a.join(id);
      b.join(id);
      redis.close();
      assertEquals(503, api.get("/ready", null).status(), "readiness reports Redis");
      assertEquals("ack", a.say(id, "still flowing", "r-1").getString("type"));
      assertEquals("still flowing", b.await("message").getString("content"));
      // Presence degrades (empty), joining still works.
      try (Ws c = Ws.open(node.httpPort(), jay.token())) {
        assertEquals(0, c.send(new JsonObject().put("type", "join").put("conversationId", id)).await("joined")
          .getJsonArray("presence").size());
      }
      assertEquals(201, api.say(ida, id, "and over REST").status());
    }
  }

  @Test
  void withRedisDownLimitsCanFailClosed() throws Exception {
    startWithOwnRedis(false);
    Session kit = api.register("kit");
    String id = api.conversation(kit, "closed");
    try (Ws ws = Ws.open(node.httpPort(), kit.token())) {
      assertEquals("ack", ws.say(id, "while Redis is up", "c-1").getString("type"));
      redis.close();
      JsonObject refused = ws.say(id, "while it is down", "c-2");
      assertEquals("RATE_LIMIT", refused.getString("code"), refused.encode());
      assertEquals(429, api.say(kit, id, "over REST").status());
    }
    assertEquals(1, api.get("/api/conversations/" + id + "/messages", kit.token()).json().getJsonArray("messages")
      .size(), "nothing stored while refused");
  }

  @Test
  void aNodeHasOneRoomConsumerPerRoomHoweverManySockets() throws Exception {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()).put("HTTP_INSTANCES", 2));
    api = new Api(node.httpPort());
    Session ned = api.register("ned");
    String busy = api.conversation(ned, "busy");
    String quiet = api.conversation(ned, "quiet");
    List<Ws> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        sockets.add(Ws.open(node.httpPort(), ned.token()).join(busy));
      }
      sockets.add(Ws.open(node.httpPort(), ned.token()).join(quiet));
      assertEquals(2, node.realtime().rooms().await(), "two rooms, five sockets");
      assertEquals("ack", sockets.get(0).say(busy, "to all four", "one-1").getString("type"));
      for (int i = 0; i < 4; i++) {
        assertEquals("to all four", sockets.get(i).await("message").getString("content"));
      }
    } finally {
      sockets.forEach(Ws::close);
    }
    // The last socket of a room takes its consumer away. Nothing outside the node signals that: poll.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (node.realtime().rooms().await() > 0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
    assertEquals(0, node.realtime().rooms().await());
  }

  @Test
  void onShutdownAMessageInFlightGetsItsAckBeforeTheSocketCloses() throws Exception {
    String database = TestServices.newDatabase();
    node = Nodes.start(Nodes.config(database, TestServices.redisUrl()).put("SHUTDOWN_GRACE_MS", 15_000));
    api = new Api(node.httpPort());
    int port = node.httpPort();
    Session mia = api.register("mia");
    String id = api.conversation(mia, "in flight");
    try (Ws ws = Ws.open(port, mia.token()); Connection sql = DriverManager.getConnection(jdbc(database))) {
      // Hold the conversation's row, so the message's transaction waits: it is in flight until released.
      sql.setAutoCommit(false);
      sql.createStatement().execute("SELECT 1 FROM conversations WHERE id = '" + id + "' FOR UPDATE");
      ws.send(Ws.message(id, "almost lost", "flight-1"));
      awaitWaitingOnLock(sql);
      Parley stopping = node;
      node = null;
      io.vertx.core.Future<Void> stopped = stopping.stop();
      // Draining: the node refuses new sockets, and this one stays open for its message.
      while (Ws.refusedStatus(port, "/ws/chat?token=" + mia.token(), io.vertx.core.MultiMap.caseInsensitiveMultiMap())
        != 503) {
        assertFalse(ws.isClosed(), "closed before its message was answered");
      }
      // Readiness says so before any socket closes, so a load balancer sends new clients elsewhere.
      Reply ready = api.get("/ready", null);
      assertEquals(503, ready.status(), ready.text());
      assertTrue(ready.text().contains("draining"), ready.text());
      assertFalse(ws.isClosed());
      sql.rollback();
      JsonObject ack = ws.await("ack");
      assertEquals("flight-1", ack.getString("clientMsgId"));
      assertEquals(1012, ws.awaitClose(10_000));
      stopped.await();
    }
  }

  @Test
  void messagesStuckInTheStoreAreEachCountedAndLoggedInOneLine() throws Exception {
    String database = TestServices.newDatabase();
    // The lock is held past the 5 s after which a message counts as stuck: the store's requests must outlast it.
    node = Nodes.start(Nodes.config(database, TestServices.redisUrl()).put("BUS_TIMEOUT_MS", 30_000));
    api = new Api(node.httpPort());
    Session noa = api.register("noa");
    String id = api.conversation(noa, "held");
    try (LogCapture log = LogCapture.of("dev.parley.ingress.ChatSocket");
         Ws ws = Ws.open(node.httpPort(), noa.token()); Connection sql = DriverManager.getConnection(jdbc(database))) {
      sql.setAutoCommit(false);
      sql.createStatement().execute("SELECT 1 FROM conversations WHERE id = '" + id + "' FOR UPDATE");
      for (int i = 0; i < 3; i++) {
        ws.send(Ws.message(id, "held " + i, "held-" + i));
      }
      awaitWaitingOnLock(sql);
      String line = log.await(text -> text.contains("has waited"));
      assertTrue(line.contains("(clientMsgId held-0)") && line.endsWith("for the store"), line);
      awaitMetric("parley_messages_stuck_total{step=\"store\"} 3.0");
      assertEquals(1, log.lines().stream().filter(text -> text.contains("has waited")).count(), log.lines().toString());
      sql.rollback();
      for (int i = 0; i < 3; i++) {
        assertEquals("held-" + i, ws.await("ack").getString("clientMsgId"));
      }
    }
  }

  @Test
  void pastItsMessagesInFlightANodeLetsTheNextWaitUnstartedForItsTurn() throws Exception {
    String database = TestServices.newDatabase();
    node = Nodes.start(Nodes.config(database, TestServices.redisUrl()).put("HTTP_INSTANCES", 1)
      .put("MAX_MESSAGES_IN_FLIGHT", 2));
    api = new Api(node.httpPort());
    Session ada = api.register("ada");
    Session bo = api.register("bo");
    Session cy = api.register("cy");
    String id = api.conversation(ada, "turns");
    for (Session member : List.of(bo, cy)) {
      api.post("/api/conversations/" + id + "/members", ada.token(), new JsonObject().put("userId", member.userId()));
    }
    int port = node.httpPort();
    try (Ws a = Ws.open(port, ada.token()); Ws b = Ws.open(port, bo.token()); Ws c = Ws.open(port, cy.token());
         Connection sql = DriverManager.getConnection(jdbc(database))) {
      sql.setAutoCommit(false);
      sql.createStatement().execute("SELECT 1 FROM conversations WHERE id = '" + id + "' FOR UPDATE");
      a.send(Ws.message(id, "a1", "a1"));
      a.send(Ws.message(id, "a2", "a2"));
      awaitWaitingOnLock(sql);
      // The node's two places are taken: these are read, and wait.
      b.send(Ws.message(id, "b1", "b1"));
      c.send(Ws.message(id, "c1", "c1"));
      awaitMetric("parley_messages_received_total 4.0");
      // One that never had its turn is not stored when its socket goes: the client, unanswered, sends it again.
      b.drop();
      awaitMetric("parley_websocket_connections 2.0");
      sql.rollback();
      assertEquals("a1", a.await("ack").getString("clientMsgId"));
      assertEquals("a2", a.await("ack", ack -> "a2".equals(ack.getString("clientMsgId"))).getString("clientMsgId"));
      assertEquals("c1", c.await("ack").getString("clientMsgId"));
      // Its socket is read again.
      c.send(Ws.message(id, "c2", "c2"));
      c.await("ack", ack -> "c2".equals(ack.getString("clientMsgId")));
      List<String> stored = new ArrayList<>();
      api.get("/api/conversations/" + id + "/messages", ada.token()).json().getJsonArray("messages")
        .forEach(m -> stored.add(((JsonObject) m).getString("clientMsgId")));
      assertEquals(List.of("a1", "a2", "c1", "c2"), stored);
    }
  }

  /** Polls the node's /metrics (every 50 ms, at most 10 s) until it has {@code line}. */
  private void awaitMetric(String line) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!api.get("/metrics", null).text().contains(line)) {
      assertTrue(System.nanoTime() < deadline, "never in /metrics: " + line);
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  /** Polls PostgreSQL (every 20 ms, at most 10 s) until a statement waits for a lock. */
  private static void awaitWaitingOnLock(Connection sql) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    try (Connection probe = DriverManager.getConnection(sql.getMetaData().getURL(), "postgres", "")) {
      while (System.nanoTime() < deadline) {
        try (ResultSet waiting = probe.createStatement().executeQuery(
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")) {
          waiting.next();
          if (waiting.getInt(1) > 0) {
            return;
          }
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
    }
    throw new AssertionError("the message never waited for the lock");
  }

  /** The JDBC form of a test database's {@code postgres://user@host:port/db} URL. */
  private static String jdbc(String url) {
    java.net.URI uri = java.net.URI.create(url);
    return "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath() + "?user=" + uri.getUserInfo();
  }

  @Test
  void aPeerThatStopsAnsweringPingsIsClosedAndOthersStay() throws Exception {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
      .put("WS_PING_INTERVAL_MS", 200));
    api = new Api(node.httpPort());
    Session lou = api.register("lou");
    try (Ws alive = Ws.open(node.httpPort(), lou.token());
         Socket silent = new Socket("127.0.0.1", node.httpPort())) {
      // A client that upgrades, then never reads nor answers anything: its pings go unanswered.
      silent.setSoTimeout(10_000);
      OutputStream out = silent.getOutputStream();
      out.write(("GET /ws/chat?token=" + lou.token() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertEquals(4003, closeCode(silent.getInputStream()));
      // The one that answers (Vert.x's client pongs by itself) is still served.
      alive.send(new JsonObject().put("type", "ping"));
      alive.await("pong");
      assertFalse(alive.isClosed());
    }
  }

  /** Reads the server's frames (the 101 response first) until a close frame; returns its status code. */
  private static int closeCode(InputStream in) throws Exception {
    DataInputStream frames = new DataInputStream(in);
    String line;
    do {
      line = readLine(frames);
    } while (!line.isEmpty());
    while (true) {
      int opcode = frames.readUnsignedByte() & 0x0F;
      long length = frames.readUnsignedByte() & 0x7F;
      if (length == 126) {
        length = frames.readUnsignedShort();
      } else if (length == 127) {
        length = frames.readLong();
      }
      byte[] payload = frames.readNBytes((int) length);
      if (opcode == 0x8) {
        return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
      }
    }
  }

  private static String readLine(DataInputStream in) throws Exception {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new AssertionError("connection closed during the handshake");
      }
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }
}
