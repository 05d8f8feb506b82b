package dev.parley;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Conversation;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.User;
import dev.parley.client.ParleyClient;
import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ParleyClient}, the event-bus facade for other verticles, on one node's Vert.x. The cross-JVM case (a
 * process that joins the cluster with only the facade) is ParleyClientIT.
 */
@Timeout(60)
class ParleyClientTest {

  private static String database;
  private static Parley node;
  private static Api api;
  private static ParleyClient parley;

  @BeforeAll
  static void start() {
    database = TestServices.newDatabase();
    node = Nodes.start(Nodes.config(database, TestServices.redisUrl()));
    api = new Api(node.httpPort());
    parley = ParleyClient.create(node.vertx());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static ErrorCode codeOf(Future<?> future) {
    ParleyException failure = assertThrows(ParleyException.class, future::await);
    return failure.code();
  }

  @Test
  void aBotIsOneAccountPerHandleRenamedOnReuseAndCannotLogIn() {
    User first = parley.bot("digest", "Digest").await();
    User again = parley.bot("digest", "Daily digest").await();
    assertEquals(first.id(), again.id());
    assertEquals("Daily digest", again.displayName());
    assertEquals("digest@bot.invalid", again.email());
    assertEquals(List.of("bot"), again.roles());
    assertEquals(ErrorCode.INVALID_INPUT, codeOf(parley.bot("Not A Handle!", "x")));

    Reply login = api.post("/api/auth/login", null, new JsonObject().put("email", "digest@bot.invalid")
      .put("password", "anything at all"));
    assertEquals(401, login.status());
    for (String email : List.of("helper@bot.invalid", "Helper@BOT.Invalid")) {
      Reply squat = api.post("/api/auth/register", null, new JsonObject().put("email", email)
        .put("password", "correct horse battery"));
      assertEquals(400, squat.status(), email);
      assertEquals("INVALID_INPUT", squat.errorCode());
    }
  }

  @Test
  void aBotNeverTakesOverAPersonsAccount() {
    // An account from before bot addresses were reserved, written straight into the database.
    io.vertx.sqlclient.Pool pool = io.vertx.pgclient.PgBuilder.pool()
      .connectingTo(io.vertx.pgclient.PgConnectOptions.fromUri(database)).using(node.vertx()).build();
    try {
      pool.query("INSERT INTO users (email, display_name, password_hash) VALUES ('taken@bot.invalid', 'A person', "
        + "'$2b$04$abcdefghijklmnopqrstuu')").execute().await();
    } finally {
      pool.close().await();
    }
    assertEquals(ErrorCode.CONFLICT, codeOf(parley.bot("taken", "Impostor")));
  }

  @Test
  void whatTheFacadePostsNeverAsksTheAssistant() {
    Session fay = api.register("fay");
    User bot = parley.bot("quiet", "Quiet bot").await();
    Conversation room = parley.createConversation(bot.id(), "always answers people", "always").await();
    parley.addMember(bot.id(), room.id(), fay.email()).await();
    try (Ws ws = Ws.open(node.httpPort(), fay.token()).join(room.id())) {
      parley.post(bot.id(), room.id(), "hello, is anyone there?").await();
      parley.post(fay.userId(), room.id(), "posted for fay by a service").await();
      JsonObject ack = ws.say(room.id(), "hello from fay herself", "f-1");
      JsonObject complete = ws.await(f -> "complete".equals(f.getString("type")), 30_000);
      assertEquals(ack.getString("id"), complete.getJsonObject("metadata").getString("inReplyTo"), complete.encode());
      // Every assistant frame so far belongs to the one answer: the facade's two posts asked nothing.
      String requestId = complete.getString("requestId");
      assertTrue(ws.received().stream().filter(f -> f.getString("requestId") != null)
        .allMatch(f -> requestId.equals(f.getString("requestId"))), ws.received().toString());
    }
  }

  @Test
  void aBotKeepsARoomPostsIntoItAndMembersSeeItLiveWithASeq() {
    Session alice = api.register("alice");
    User bot = parley.bot("keeper", "Room keeper").await();
    Conversation room = parley.createConversation(bot.id(), "Kept by a bot", "off").await();
    assertEquals(bot.id(), room.ownerId());
    assertEquals(alice.userId(), parley.addMember(bot.id(), room.id(), alice.email()).await().userId());

    try (Ws ws = Ws.open(node.httpPort(), alice.token()).join(room.id())) {
      ChatMessage posted = parley.post(bot.id(), room.id(), "Welcome, alice", "welcome-1", new JsonObject()).await();
      assertEquals(1, posted.seq());
      JsonObject seen = ws.await("message", m -> posted.id().equals(m.getString("id")));
      assertEquals(1, seen.getLong("seq"));
      assertEquals("Room keeper", seen.getJsonObject("sender").getString("displayName"));

      // A retry with the same key stores nothing new and answers the original.
      ChatMessage retried = parley.post(bot.id(), room.id(), "Welcome, alice", "welcome-1", new JsonObject()).await();
      assertEquals(posted.id(), retried.id());
      ChatMessage next = parley.post(bot.id(), room.id(), "Second").await();
      assertEquals(2, next.seq());
      ws.await("message", m -> m.getLong("seq") == 2);
      assertTrue(ws.received().stream().noneMatch(m -> "message".equals(m.getString("type"))),
        "the retry was not delivered again: " + ws.received());
    }

    var page = parley.history(alice.userId(), room.id(), null, null, 10).await();
    assertEquals(List.of(1L, 2L), page.messages().stream().map(ChatMessage::seq).toList());
    assertEquals(List.of(2L), parley.history(bot.id(), room.id(), 1L, null, 10).await().messages().stream()
      .map(ChatMessage::seq).toList());
    assertTrue(parley.conversations(bot.id(), 10, null).await().items().stream()
      .anyMatch(c -> c.id().equals(room.id())));
  }

  @Test
  void membershipRulesHoldForWhatTheFacadeDoesAsAUser() {
    Session owner = api.register("owner");
    String room = api.conversation(owner, "people only");
    User bot = parley.bot("intruder", "Intruder").await();
    assertEquals(ErrorCode.NOT_FOUND, codeOf(parley.post(bot.id(), room, "let me in")));
    assertEquals(ErrorCode.NOT_FOUND, codeOf(parley.history(bot.id(), room, null, null, 10)));
    assertEquals(ErrorCode.NOT_FOUND, codeOf(parley.addMember(bot.id(), room, "intruder@bot.invalid")));
    // A malformed id is a room that does not exist, as over HTTP.
    assertEquals(ErrorCode.NOT_FOUND, codeOf(parley.post(bot.id(), "not-a-uuid", "hello")));
    // Once the owner adds the bot by its address, it may post.
    parley.addMember(owner.userId(), room, "intruder@bot.invalid").await();
    assertEquals(1, parley.post(bot.id(), room, "thanks").await().seq());
  }

  @Test
  void aSubscriptionReceivesWhatPeopleSendUntilClosed() throws Exception {
    Session carol = api.register("carol");
    String room = api.conversation(carol, "watched");
    LinkedBlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
    ParleyClient.Subscription subscription = parley.subscribe(room, events::add).await();

    try (Ws ws = Ws.open(node.httpPort(), carol.token()).join(room)) {
      JsonObject ack = ws.say(room, "hello, service", "c-1");
      JsonObject event = nextMessage(events);
      assertNotNull(event, "the subscription got the message");
      assertEquals(ack.getLong("seq"), event.getLong("seq"));
      assertEquals("hello, service", event.getString("content"));
      assertEquals(carol.userId(), event.getJsonObject("sender").getString("id"));

      subscription.close().await();
      ws.say(room, "no longer watched", "c-2");
      // The socket's own delivery of the second message shows it was published; the subscription saw none of it.
      ws.await("message", m -> "no longer watched".equals(m.getString("content")));
      assertTrue(events.stream().noneMatch(e -> "no longer watched".equals(e.getString("content"))), events.toString());
    }
  }

  /** The next {@code message} event, skipping the others (presence, read markers); null after 10 s. */
  private static JsonObject nextMessage(LinkedBlockingQueue<JsonObject> events) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonObject event;
    do {
      event = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } while (event != null && !"message".equals(event.getString("type")));
    return event;
  }

  @Test
  void aContextProviderIsAskedBeforeTheAssistantAnswers() {
    Session dave = api.register("dave");
    String room = api.conversation(dave, "with context");
    CompletableFuture<ParleyClient.ContextRequest> asked = new CompletableFuture<>();
    ParleyClient.Subscription provider = parley.provideContext(request -> {
      asked.complete(request);
      return Future.succeededFuture(new ParleyClient.Context("Dave's order 42 shipped on Monday.", "orders"));
    }).await();
    try (Ws ws = Ws.open(node.httpPort(), dave.token()).join(room)) {
      ws.say(room, "@assistant where is my order?", "q-1");
      JsonObject complete = ws.await(f -> "complete".equals(f.getString("type")), 30_000);
      assertEquals(true, complete.getJsonObject("metadata").getBoolean("contextUsed"), complete.encode());
      ParleyClient.ContextRequest request = asked.getNow(null);
      assertEquals(room, request.conversationId());
      assertEquals(dave.userId(), request.userId());
      assertTrue(request.question().contains("where is my order"), request.question());
    } finally {
      provider.close().await();
    }
  }

  @Test
  void aFailingContextProviderLeavesTheAnswerWithoutContext() {
    Session erin = api.register("erin");
    String room = api.conversation(erin, "provider fails");
    ParleyClient.Subscription provider = parley.provideContext(request -> {
      throw new IllegalStateException("the orders service is down");
    }).await();
    try (Ws ws = Ws.open(node.httpPort(), erin.token()).join(room)) {
      ws.say(room, "@assistant where is my order?", "q-1");
      JsonObject complete = ws.await(f -> "complete".equals(f.getString("type")), 30_000);
      assertFalse(complete.getJsonObject("metadata").getBoolean("contextUsed"), complete.encode());
      assertNotEquals("", complete.getJsonObject("message").getString("content"));
    } finally {
      provider.close().await();
    }
  }
}
