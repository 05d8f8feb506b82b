package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Jwts;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** WebSocket protocol v1 and the SSE stream against one node: every frame, every refusal. */
@Timeout(60)
class RealtimeTest {

  private static Parley node;
  private static Api api;
  private static int port;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
      .put("WS_AUTH_TIMEOUT_MS", 1000)
      .put("WS_ORIGINS", "https://chat.example.org")
      .put("WS_SLOW_CONSUMER_BYTES", 262_144)
      .put("WS_SLOW_CONSUMER_MS", 2000)
      .put("RESUME_MAX_MESSAGES", 5)
      .put("TYPING_TIMEOUT_MS", 500)
      .put("RATE_LIMIT_MESSAGES_PER_MIN", 100_000));
    port = node.httpPort();
    api = new Api(port);
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static String path(String conversationId, String rest) {
    return "/api/conversations/" + conversationId + rest;
  }

  /** A room of {@code owner} with {@code others} as members. */
  private static String room(Session owner, Session... others) {
    String id = api.conversation(owner, "room");
    for (Session other : others) {
      assertEquals(201, api.post(path(id, "/members"), owner.token(), new JsonObject().put("userId", other.userId()))
        .status());
    }
    return id;
  }

  @Test
  void aMessageIsAcknowledgedAfterCommitAndReachesEveryMember() {
    Session ann = api.register("ann");
    Session ben = api.register("ben");
    String id = room(ann, ben);
    try (Ws a = Ws.open(port, ann.token()); Ws b = Ws.open(port, ben.token())) {
      a.join(id);
      b.join(id);
      JsonObject ack = a.say(id, "hello ben", "c-1");
      assertEquals("ack", ack.getString("type"), ack.encode());
      assertEquals(1, ack.getLong("seq"));
      assertEquals(id, ack.getString("conversationId"));
      assertNotNull(ack.getString("id"));
      JsonObject received = b.await("message");
      assertEquals("hello ben", received.getString("content"));
      assertEquals(1, received.getLong("seq"));
      assertEquals(ann.userId(), received.getJsonObject("sender").getString("id"));
      assertEquals(ack.getString("id"), received.getString("id"));
      // Stored: REST lists what the socket acknowledged.
      assertEquals(ack.getString("id"), api.get(path(id, "/messages"), ben.token()).json().getJsonArray("messages")
        .getJsonObject(0).getString("id"));
    }
  }

  @Test
  void aSendersMessagesSentAtOnceAreStoredInTheOrderSent() {
    Session eli = api.register("eli");
    String id = room(eli);
    int count = 30;
    try (Ws ws = Ws.open(port, eli.token())) {
      for (int i = 0; i < count; i++) {
        ws.send(Ws.message(id, "m" + i, "order-" + i));
      }
      for (int i = 0; i < count; i++) {
        ws.await("ack");
      }
    }
    List<String> stored = new ArrayList<>();
    api.get(path(id, "/messages") + "?limit=" + count, eli.token()).json().getJsonArray("messages")
      .forEach(m -> stored.add(((JsonObject) m).getString("content")));
    assertEquals(IntStream.range(0, count).mapToObj(i -> "m" + i).toList(), stored);
  }

  @Test
  void theSameClientMsgIdStoresOnceAndGetsTheSameAck() {
    Session cid = api.register("cid");
    String id = room(cid);
    try (Ws ws = Ws.open(port, cid.token())) {
      JsonObject first = ws.say(id, "once", "dup-1");
      JsonObject again = ws.say(id, "once, retried", "dup-1");
      assertEquals(first.getLong("seq"), again.getLong("seq"));
      assertEquals(first.getString("id"), again.getString("id"));
      assertTrue(again.getBoolean("duplicate"));
    }
    assertEquals(1, api.get(path(id, "/messages"), cid.token()).json().getJsonArray("messages").size());
  }

  @Test
  void tokenInQueryHeaderOrFirstFrameAuthenticates() {
    Session dee = api.register("dee");
    try (Ws query = Ws.connect(port, "/ws/chat?token=" + dee.token())) {
      assertEquals(dee.userId(), query.await("connection").getJsonObject("user").getString("id"));
    }
    MultiMap bearer = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + dee.token());
    try (Ws header = Ws.connect(port, "/ws/chat", bearer, 0)) {
      JsonObject connection = header.await("connection");
      assertEquals(30_000, connection.getLong("heartbeatMs"));
      assertNotNull(connection.getString("node"));
    }
    try (Ws frame = Ws.connect(port, "/ws/chat")) {
      frame.send(new JsonObject().put("type", "auth").put("token", dee.token()));
      frame.await("connection");
      frame.send(new JsonObject().put("type", "ping"));
      frame.await("pong");
    }
  }

  @Test
  void aBadTokenIsRefusedBeforeTheUpgrade() {
    assertEquals(401, Ws.refusedStatus(port, "/ws/chat?token=not-a-jwt", MultiMap.caseInsensitiveMultiMap()));
    String foreign = Jwts.hs256(Jwts.claims("someone", System.currentTimeMillis() / 1000 + 600),
      "another-secret-that-is-at-least-32-bytes");
    assertEquals(401, Ws.refusedStatus(port, "/ws/chat", MultiMap.caseInsensitiveMultiMap()
      .add("Authorization", "Bearer " + foreign)));
  }

  @Test
  void aForeignOriginIsRefusedAndAListedOneAccepted() {
    Session eve = api.register("eve");
    assertEquals(403, Ws.refusedStatus(port, "/ws/chat?token=" + eve.token(),
      MultiMap.caseInsensitiveMultiMap().add("Origin", "https://evil.example.com")));
    try (Ws listed = Ws.connect(port, "/ws/chat?token=" + eve.token(),
      MultiMap.caseInsensitiveMultiMap().add("Origin", "https://chat.example.org"), 0)) {
      listed.await("connection");
    }
  }

  @Test
  void aSocketWithoutAuthIsClosedWith1008() {
    try (Ws silent = Ws.connect(port, "/ws/chat")) {
      assertEquals("UNAUTHORIZED", silent.await("error").getString("code"));
      assertEquals(1008, silent.awaitClose(5000));
    }
    try (Ws early = Ws.connect(port, "/ws/chat")) {
      early.send(new JsonObject().put("type", "join").put("conversationId", "x"));
      assertEquals("UNAUTHORIZED", early.await("error").getString("code"));
      assertEquals(1008, early.awaitClose(5000));
    }
    try (Ws wrong = Ws.connect(port, "/ws/chat")) {
      wrong.send(new JsonObject().put("type", "auth").put("token", "garbage"));
      assertEquals("UNAUTHORIZED", wrong.await("error").getString("code"));
      assertEquals(1008, wrong.awaitClose(5000));
    }
  }

  @Test
  void anExpiredTokenClosesTheSocketWith4001() {
    Session fay = api.register("fay");
    String shortLived = Jwts.hs256(Jwts.claims(fay.userId(), System.currentTimeMillis() / 1000 + 2), Nodes.SECRET);
    try (Ws ws = Ws.open(port, shortLived)) {
      assertEquals(4001, ws.awaitClose(10_000));
    }
  }

  @Test
  void badFramesGetInvalidInputAndTheSocketStaysOpen() {
    Session gus = api.register("gus");
    String id = room(gus);
    try (Ws ws = Ws.open(port, gus.token())) {
      ws.sendText("{not json");
      assertEquals("INVALID_INPUT", ws.await("error").getString("code"));
      ws.sendText("[1,2,3]");
      assertEquals("INVALID_INPUT", ws.await("error").getString("code"));
      ws.send(new JsonObject().put("conversationId", id));
      assertTrue(ws.await("error").getString("message").contains("type"));
      ws.send(new JsonObject().put("type", "teleport"));
      assertTrue(ws.await("error").getString("message").contains("teleport"));
      ws.send(new JsonObject().put("type", "message").put("content", "where to?"));
      assertTrue(ws.await("error").getString("message").contains("conversationId"));
      ws.send(new JsonObject().put("type", "message").put("conversationId", id).put("clientMsgId", "m-x"));
      JsonObject missing = ws.await("error");
      assertTrue(missing.getString("message").contains("content"));
      assertEquals("m-x", missing.getString("clientMsgId"));
      ws.sendBinary(Buffer.buffer(new byte[] {1, 2, 3}));
      assertEquals("INVALID_INPUT", ws.await("error").getString("code"));
      ws.send(new JsonObject().put("type", "typing").put("conversationId", id).put("typing", "yes"));
      assertEquals("INVALID_INPUT", ws.await("error").getString("code"));
      // Still open and working, and none of it was stored.
      assertEquals("ack", ws.say(id, "still here", "ok-1").getString("type"));
    }
    assertEquals(1, api.get(path(id, "/messages"), gus.token()).json().getJsonArray("messages").size());
  }

  @Test
  void contentOverTheLimitIsTooLargeAndAnOversizedFrameCloses1009() {
    Session hal = api.register("hal");
    String id = room(hal);
    try (Ws ws = Ws.open(port, hal.token())) {
      JsonObject refused = ws.say(id, "x".repeat(16_385), "big-1");
      assertEquals("TOO_LARGE", refused.getString("code"), refused.encode());
      assertEquals("ack", ws.say(id, "é".repeat(8000), "fits-1").getString("type"), "16,000 bytes fit");
      ws.sendText(new JsonObject().put("type", "message").put("conversationId", id)
        .put("content", "y".repeat(70_000)).encode());
      assertEquals(1009, ws.awaitClose(5000));
    }
    assertEquals(1, api.get(path(id, "/messages"), hal.token()).json().getJsonArray("messages").size());
  }

  @Test
  void nonMembersGetNotFoundForJoinAndMessage() {
    Session ivy = api.register("ivy");
    Session jon = api.register("jon");
    String id = room(ivy);
    try (Ws ws = Ws.open(port, jon.token())) {
      ws.send(new JsonObject().put("type", "join").put("conversationId", id));
      JsonObject refused = ws.await("error");
      assertEquals("NOT_FOUND", refused.getString("code"));
      assertEquals(id, refused.getString("conversationId"));
      assertEquals("NOT_FOUND", ws.say(id, "let me in", "n-1").getString("code"));
      ws.send(new JsonObject().put("type", "join").put("conversationId", "not-a-uuid"));
      assertEquals("NOT_FOUND", ws.await("error").getString("code"));
    }
    assertEquals(0, api.get(path(id, "/messages"), ivy.token()).json().getJsonArray("messages").size());
  }

  @Test
  void joinNewCreatesAConversationAndThePathJoinsAtOnce() {
    Session kim = api.register("kim");
    String id;
    try (Ws ws = Ws.open(port, kim.token())) {
      ws.send(new JsonObject().put("type", "join").put("conversationId", "new"));
      id = ws.await("joined").getString("conversationId");
      assertEquals(0, api.get(path(id, ""), kim.token()).json().getLong("lastSeq"));
      assertEquals("always", api.get(path(id, ""), kim.token()).json().getString("assistantMode"));
      ws.say(id, "first", "k-1");
      // Mode "always": the assistant answers every message.
      assertEquals("assistant", ws.await("complete").getJsonObject("message").getString("role"));
    }
    try (Ws ws = Ws.connect(port, "/ws/chat/" + id + "?lastSeq=0&token=" + kim.token())) {
      ws.await("connection");
      assertEquals(2, ws.await("joined").getLong("lastSeq"));
      assertEquals("first", ws.await("message").getString("content"));
      assertEquals("assistant", ws.await("message").getString("role"));
      assertFalse(ws.await("resumed").getBoolean("truncated"));
    }
  }

  @Test
  void resumeReplaysWhatWasMissedThenGoesLive() {
    Session lee = api.register("lee");
    Session max = api.register("max");
    String id = room(lee, max);
    try (Ws a = Ws.open(port, lee.token())) {
      for (int i = 1; i <= 3; i++) {
        a.say(id, "before " + i, "b-" + i);
      }
      try (Ws b = Ws.open(port, max.token())) {
        b.send(new JsonObject().put("type", "join").put("conversationId", id).put("lastSeq", 1));
        assertEquals(3, b.await("joined").getLong("lastSeq"));
        assertEquals(2, b.await("message").getLong("seq"));
        assertEquals(3, b.await("message").getLong("seq"));
        JsonObject resumed = b.await("resumed");
        assertEquals(1, resumed.getLong("fromSeq"));
        assertEquals(3, resumed.getLong("toSeq"));
        assertFalse(resumed.getBoolean("truncated"));
        a.say(id, "live", "l-1");
        assertEquals(4, b.await("message").getLong("seq"));
        assertTrue(b.received().stream().noneMatch(f -> "message".equals(f.getString("type"))), "no duplicate");
      }
    }
  }

  @Test
  void leavingAndRejoiningWhileMessagesFlowNeverDuplicatesOrLoses() {
    Session pia = api.register("pia");
    Session roy = api.register("roy");
    String id = room(pia, roy);
    try (Ws sender = Ws.open(port, pia.token()); Ws reader = Ws.open(port, roy.token())) {
      reader.join(id);
      List<Long> seen = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++) {
          sender.send(new JsonObject().put("type", "message").put("conversationId", id)
            .put("content", "r" + round + "-" + i).put("clientMsgId", "q-" + round + "-" + i));
        }
        long last = seen.isEmpty() ? 0 : seen.get(seen.size() - 1);
        long upTo = (round + 1) * 3L;
        // Leave part-way, come back at once with what was seen: the rest arrives once, in order.
        seen.add(reader.await("message", f -> f.getLong("seq") == last + 1).getLong("seq"));
        reader.send(new JsonObject().put("type", "leave").put("conversationId", id));
        // Messages delivered before the leave took effect are the old subscription's: done with them.
        reader.discardThrough("left");
        reader.send(new JsonObject().put("type", "join").put("conversationId", id).put("lastSeq", last + 1));
        while (seen.get(seen.size() - 1) < upTo) {
          seen.add(reader.await(f -> "message".equals(f.getString("type")), 10_000).getLong("seq"));
        }
        reader.await("resumed");
        for (int i = 0; i < 3; i++) {
          sender.await("ack");
        }
      }
      List<Long> expected = new ArrayList<>();
      for (long seq = 1; seq <= 15; seq++) {
        expected.add(seq);
      }
      assertEquals(expected, seen);
      assertTrue(reader.received().stream().noneMatch(f -> "message".equals(f.getString("type"))), "no duplicate");
    }
  }

  @Test
  void aLateRefreshDoesNotBringBackAConnectionThatLeft() {
    Session sol = api.register("sol");
    String id = room(sol);
    dev.parley.bus.PresenceClient presence = new dev.parley.bus.PresenceClient(node.vertx(), true, 5_000, true);
    JsonObject user = new JsonObject().put("id", sol.userId()).put("displayName", "sol");
    JsonArray stale = new JsonArray().add(new JsonObject().put("conversationId", id).put("connectionId", "c-left")
      .put("user", user));
    presence.connect(id, "c-left", user).await();
    presence.disconnect(id, "c-left").await();
    presence.refresh(stale).await();
    assertEquals(0, presence.list(id, null).await().getJsonArray("users").size(), "the refresh came after the leave");
    // A connection Redis never heard of (it joined while Redis was down, or Redis lost its data) is added.
    presence.refresh(new JsonArray().add(new JsonObject().put("conversationId", id).put("connectionId", "c-new")
      .put("user", user))).await();
    assertEquals(1, presence.list(id, null).await().getJsonArray("users").size());
  }

  @Test
  void aLongResumeIsTruncatedAtTheBound() {
    Session ned = api.register("ned");
    String id = room(ned);
    IntStream.rangeClosed(1, 8).forEach(i -> api.say(ned, id, "m" + i));
    try (Ws ws = Ws.open(port, ned.token())) {
      ws.send(new JsonObject().put("type", "join").put("conversationId", id).put("lastSeq", 0));
      ws.await("joined");
      for (long seq = 1; seq <= 5; seq++) {
        assertEquals(seq, ws.await("message").getLong("seq"));
      }
      JsonObject resumed = ws.await("resumed");
      assertTrue(resumed.getBoolean("truncated"));
      assertEquals(5, resumed.getLong("toSeq"));
    }
  }

  @Test
  void typingReachesOthersAndEndsByItself() {
    Session ola = api.register("ola");
    Session pam = api.register("pam");
    String id = room(ola, pam);
    try (Ws a = Ws.open(port, ola.token()); Ws b = Ws.open(port, pam.token())) {
      a.join(id);
      b.join(id);
      a.send(new JsonObject().put("type", "typing").put("conversationId", id).put("typing", true));
      JsonObject on = b.await("typing", f -> f.getBoolean("typing"));
      assertEquals(ola.userId(), on.getJsonObject("user").getString("id"));
      assertEquals(500, on.getLong("expiresInMs"));
      // Not refreshed: it ends after TYPING_TIMEOUT_MS (500 ms here).
      JsonObject off = b.await("typing", f -> !f.getBoolean("typing"));
      assertEquals(ola.userId(), off.getJsonObject("user").getString("id"));
    }
    assertEquals(0, api.get(path(id, "/messages"), ola.token()).json().getJsonArray("messages").size(), "never stored");
  }

  @Test
  void typingIsThrottledPerUser() {
    Session tom = api.register("tom");
    Session una = api.register("una");
    String id = room(tom, una);
    try (Ws a = Ws.open(port, tom.token()); Ws b = Ws.open(port, una.token())) {
      a.join(id);
      b.join(id);
      for (int i = 0; i < 5; i++) {
        a.send(new JsonObject().put("type", "typing").put("conversationId", id).put("typing", true));
      }
      a.send(new JsonObject().put("type", "ping"));
      a.await("pong");
      b.await("typing", f -> f.getBoolean("typing"));
      b.await("typing", f -> !f.getBoolean("typing"));
      assertTrue(b.received().stream().noneMatch(f -> "typing".equals(f.getString("type"))),
        "five typing frames within the throttle interval, one broadcast: " + b.received());
    }
  }

  @Test
  void tokensNeverReachTheAccessLog() throws Exception {
    Session val = api.register("val");
    String id = room(val);
    try (dev.parley.support.LogCapture access = dev.parley.support.LogCapture.of("dev.parley.access")) {
      try (Ws ws = Ws.open(port, val.token())) {
        ws.join(id);
      }
      assertEquals(200, api.get(path(id, "/messages?token=" + val.token()), val.token()).status());
      assertEquals(401, Ws.refusedStatus(port, "/ws/chat?token=forged." + val.token(), MultiMap.caseInsensitiveMultiMap()));
      access.await(line -> line.contains("/ws/chat?token=*** 401"));
      String upgrade = access.await(line -> line.contains("/ws/chat"));
      assertTrue(upgrade.contains("token=***") && upgrade.contains(" 101 "), upgrade);
      access.await(line -> line.contains("/messages?token=***"));
      assertTrue(access.lines().stream().noneMatch(line -> line.contains(val.token())), access.lines().toString());
      assertEquals(1, access.lines().stream().filter(line -> line.contains(" 101 ")).count(), "one line per socket");
    }
  }

  @Test
  void theAssistantLimitIsKeptApartFromTheMessageLimit() {
    Session wyn = api.register("wyn");
    dev.parley.bus.PresenceClient limits = new dev.parley.bus.PresenceClient(node.vertx(), true, 5_000, true);
    for (int i = 0; i < 10; i++) {
      limits.checkRate(dev.parley.bus.PresenceApi.KIND_ASSISTANT, wyn.userId()).await();
    }
    dev.parley.bus.ParleyException over = org.junit.jupiter.api.Assertions.assertThrows(
      dev.parley.bus.ParleyException.class,
      () -> limits.checkRate(dev.parley.bus.PresenceApi.KIND_ASSISTANT, wyn.userId()).await());
    assertEquals(dev.parley.bus.ErrorCode.RATE_LIMIT, over.code());
    assertTrue(over.retryAfterMs() > 0 && over.retryAfterMs() <= 6_000, "one request per 6 s: " + over.retryAfterMs());
    // Messages have a budget of their own.
    limits.checkRate(dev.parley.bus.PresenceApi.KIND_MESSAGE, wyn.userId()).await();
  }

  @Test
  void readMarkersAreStoredAndBroadcast() {
    Session quin = api.register("quin");
    Session rae = api.register("rae");
    String id = room(quin, rae);
    try (Ws a = Ws.open(port, quin.token()); Ws b = Ws.open(port, rae.token())) {
      a.join(id);
      b.join(id);
      a.say(id, "one", "r-1");
      a.say(id, "two", "r-2");
      b.send(new JsonObject().put("type", "read").put("conversationId", id).put("seq", 2));
      JsonObject read = a.await("read");
      assertEquals(2, read.getLong("seq"));
      assertEquals(rae.userId(), read.getJsonObject("user").getString("id"));
      // A marker that does not move is not broadcast; one past the last message is clamped to it.
      b.send(new JsonObject().put("type", "read").put("conversationId", id).put("seq", 1));
      a.say(id, "three", "r-3");
      b.send(new JsonObject().put("type", "read").put("conversationId", id).put("seq", 99));
      assertEquals(3, a.await("read").getLong("seq"));
      assertTrue(a.received().stream().noneMatch(f -> "read".equals(f.getString("type"))), a.received().toString());
    }
    assertEquals(3, api.get(path(id, ""), rae.token()).json().getLong("myLastReadSeq"));
  }

  @Test
  void restEditsDeletesAndMembershipChangesAreBroadcast() {
    Session sam = api.register("sam");
    Session tia = api.register("tia");
    String id = room(sam, tia);
    try (Ws a = Ws.open(port, sam.token()); Ws b = Ws.open(port, tia.token())) {
      a.join(id);
      b.join(id);
      Reply posted = api.say(sam, id, "typo");
      assertEquals(201, posted.status());
      String messageId = posted.json().getString("id");
      assertEquals("typo", b.await("message").getString("content"));
      api.patch(path(id, "/messages/" + messageId), sam.token(), new JsonObject().put("content", "fixed"));
      JsonObject edited = b.await("edited");
      assertEquals("fixed", edited.getString("content"));
      assertNotNull(edited.getString("editedAt"));
      assertEquals(204, api.delete(path(id, "/messages/" + messageId), sam.token()).status());
      assertTrue(b.await("deleted").getBoolean("deleted"));
      // Removing tia ends her place in the room at once.
      assertEquals(204, api.delete(path(id, "/members/" + tia.userId()), sam.token()).status());
      assertEquals("removed", a.await("member").getString("change"));
      assertEquals("removed", b.await("left").getString("reason"));
      api.say(sam, id, "after tia left");
      a.await("message", f -> "after tia left".equals(f.getString("content")));
      assertTrue(b.received().stream().noneMatch(f -> "after tia left".equals(f.getString("content"))));
    }
  }

  @Test
  void presenceIsListedAndAnnounced() {
    Session uma = api.register("uma");
    Session vic = api.register("vic");
    String id = room(uma, vic);
    try (Ws a = Ws.open(port, uma.token())) {
      JsonObject joined = a.send(new JsonObject().put("type", "join").put("conversationId", id)).await("joined");
      assertEquals(List.of(uma.userId()), ids(joined.getJsonArray("presence")));
      try (Ws b = Ws.open(port, vic.token())) {
        b.join(id);
        JsonObject online = a.await("presence", f -> vic.userId().equals(f.getJsonObject("user").getString("id")));
        assertEquals("online", online.getString("state"));
        JsonArray listed = api.get(path(id, "/presence"), uma.token()).json().getJsonArray("users");
        assertEquals(2, listed.size(), listed.encode());
      }
      JsonObject offline = a.await("presence", f -> "offline".equals(f.getString("state")));
      assertEquals(vic.userId(), offline.getJsonObject("user").getString("id"));
      assertEquals(1, api.get(path(id, "/presence"), uma.token()).json().getJsonArray("users").size());
    }
    assertEquals(404, api.get(path(id, "/presence"), api.register("wes").token()).status());
  }

  @Test
  void aSlowConsumerIsClosedWhileOthersKeepReceiving() {
    Session xia = api.register("xia");
    Session yan = api.register("yan");
    Session zed = api.register("zed");
    String id = room(xia, yan, zed);
    long closedBefore = node.realtime().slowConsumersClosed();
    try (Ws sender = Ws.open(port, xia.token()); Ws fast = Ws.open(port, yan.token());
         Ws slow = Ws.connect(port, "/ws/chat?token=" + zed.token(), MultiMap.caseInsensitiveMultiMap(), 4096)) {
      slow.await("connection");
      slow.join(id);
      fast.join(id);
      slow.pause();
      String big = "é".repeat(7_900);
      int count = 300;
      for (int i = 0; i < count && node.realtime().slowConsumersClosed() == closedBefore; i++) {
        JsonObject ack = sender.say(id, big, "s-" + i);
        assertEquals("ack", ack.getString("type"), ack.encode());
      }
      assertEquals(closedBefore + 1, node.realtime().slowConsumersClosed(), "the slow reader was closed");
      // The others are unaffected: the fast reader gets every message, in order.
      long last = api.get(path(id, ""), xia.token()).json().getLong("lastSeq");
      for (long seq = 1; seq <= last; seq++) {
        assertEquals(seq, fast.await(f -> "message".equals(f.getString("type")), 10_000).getLong("seq"));
      }
      slow.resume();
      slow.awaitClose(20_000);
    }
  }

  @Test
  void theEventStreamResumesFromLastEventId() throws Exception {
    Session amy = api.register("amy");
    String id = room(amy);
    api.say(amy, id, "one");
    api.say(amy, id, "two");
    try (dev.parley.support.Sse sse = dev.parley.support.Sse.open(port, path(id, "/events"), amy.token(), "1")) {
      dev.parley.support.Sse.Event joined = sse.next();
      assertEquals("joined", joined.json().getString("type"));
      assertEquals("1", joined.id(), "a stream that drops before the replay resumes from where it was");
      dev.parley.support.Sse.Event replayed = sse.next();
      assertEquals("2", replayed.id());
      assertEquals("two", replayed.json().getString("content"));
      assertEquals("resumed", sse.next().json().getString("type"));
      api.say(amy, id, "three");
      dev.parley.support.Sse.Event live = sse.next();
      while (!"message".equals(live.json().getString("type"))) {
        live = sse.next();
      }
      assertEquals("3", live.id());
      assertEquals("three", live.json().getString("content"));
      // The room is deleted: the stream says so and ends.
      assertEquals(204, api.delete(path(id, ""), amy.token()).status());
      dev.parley.support.Sse.Event left = sse.next();
      while (!"left".equals(left.json().getString("type"))) {
        left = sse.next();
      }
      assertEquals("deleted", left.json().getString("reason"));
      sse.awaitEnd();
    }
    assertEquals(404, api.get(path(id, "/events"), api.register("bea").token()).status());
    assertEquals(401, api.get(path(id, "/events"), null).status());
  }

  @Test
  void aFuzzedFrameStreamNeverCrashesTheNodeNorStoresAnything() {
    Session fuzz = api.register("fuzz");
    Session calm = api.register("calm");
    String id = room(fuzz, calm);
    Random random = new Random(42);
    List<String> types = List.of("join", "leave", "message", "typing", "stop", "read", "ping", "auth", "x", "");
    try (Ws watcher = Ws.open(port, calm.token())) {
      watcher.join(id);
      for (int round = 0; round < 3; round++) {
        try (Ws fuzzer = Ws.open(port, fuzz.token())) {
          for (int i = 0; i < 300; i++) {
            fuzzer.sendText(fuzzed(random, types, id));
          }
          fuzzer.send(new JsonObject().put("type", "ping"));
          fuzzer.await("pong");
        }
      }
      // Oversized frames, of random sizes past the limit: each closes its own socket with 1009, nothing else.
      for (int i = 0; i < 3; i++) {
        try (Ws big = Ws.open(port, fuzz.token())) {
          big.sendText(randomText(random, 65_537 + random.nextInt(200_000)));
          assertEquals(1009, big.awaitClose(5000));
        }
      }
      assertEquals("ack", watcher.say(id, "the node still serves", "w-1").getString("type"));
    }
    JsonArray stored = api.get(path(id, "/messages"), calm.token()).json().getJsonArray("messages");
    assertEquals(1, stored.size(), "no fuzzed frame stored a message: " + stored.encode());
    assertEquals(200, api.get("/ready", null).status());
  }

  /** Frames that are almost right: a random type, fields of the wrong kind, or plain garbage. */
  private static String fuzzed(Random random, List<String> types, String id) {
    return switch (random.nextInt(6)) {
      case 0 -> randomText(random, random.nextInt(200));
      case 1 -> new JsonObject().put("type", types.get(random.nextInt(types.size()))).encode();
      case 2 -> new JsonObject().put("type", "message").put("conversationId", id)
        .put("content", random.nextBoolean() ? 42 : new JsonArray().add("x")).encode();
      case 3 -> new JsonObject().put("type", types.get(random.nextInt(types.size())))
        .put("conversationId", random.nextBoolean() ? id : randomText(random, 10))
        .put("seq", random.nextBoolean() ? -1 : "x").put("lastSeq", 1.5).put("typing", 3).encode();
      case 4 -> "{\"type\":\"message\",\"conversationId\":\"" + id + "\",\"content\":\"\\u0000\"}";
      default -> "{\"type\":" + randomText(random, 5);
    };
  }

  private static String randomText(Random random, int length) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < length; i++) {
      text.append((char) (random.nextInt(0x2FF) + 1));
    }
    return text.toString();
  }

  private static List<String> ids(JsonArray users) {
    List<String> ids = new ArrayList<>();
    users.forEach(user -> ids.add(((JsonObject) user).getString("id")));
    return ids;
  }
}
