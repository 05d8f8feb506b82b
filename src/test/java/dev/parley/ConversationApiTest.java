package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Expect;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.bus.StoreClient;
import dev.parley.support.Nodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ConversationApiTest {

  private static Parley node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(dev.parley.support.TestServices.newDatabase(),
        dev.parley.support.TestServices.redisUrl())
      .put("MAX_BODY_BYTES", 8192)
      .put("MAX_MESSAGE_CHARS", 500)
      .put("CORS_ORIGINS", "https://app.example.org"));
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static String path(String conversationId, String rest) {
    return "/api/conversations/" + conversationId + rest;
  }

  @Test
  void ownerCreatesRenamesAndDeletesAConversation() {
    Session owner = api.register("owner");
    Reply created = api.post("/api/conversations", owner.token(),
      new JsonObject().put("title", "Launch plan").put("metadata", new JsonObject().put("team", "rockets")));
    assertEquals(201, created.status(), created.text());
    JsonObject conversation = created.json();
    assertEquals("Launch plan", conversation.getString("title"));
    assertEquals("mention", conversation.getString("assistantMode"));
    assertEquals(0, conversation.getLong("lastSeq"));
    assertEquals("owner", conversation.getString("myRole"));
    assertEquals("rockets", conversation.getJsonObject("metadata").getString("team"));
    assertEquals(1, conversation.getJsonArray("members").size());
    String id = conversation.getString("id");

    Reply renamed = api.patch(path(id, ""), owner.token(), new JsonObject().put("title", "Launch plan v2")
      .put("assistantMode", "always"));
    assertEquals(200, renamed.status(), renamed.text());
    assertEquals("Launch plan v2", renamed.json().getString("title"));
    assertEquals("always", renamed.json().getString("assistantMode"));
    assertEquals("Launch plan v2", api.get(path(id, ""), owner.token()).json().getString("title"));

    assertEquals(204, api.delete(path(id, ""), owner.token()).status());
    assertEquals(404, api.get(path(id, ""), owner.token()).status());
    assertTrue(api.get("/api/conversations", owner.token()).json().getJsonArray("items").isEmpty());
  }

  @Test
  void aNonMemberGetsNotFoundForEverythingAboutAConversation() {
    Session owner = api.register("alice");
    Session stranger = api.register("mallory");
    String id = api.conversation(owner, "private");
    String messageId = api.say(owner, id, "secret plans").json().getString("id");

    List<Reply> replies = List.of(
      api.get(path(id, ""), stranger.token()),
      api.patch(path(id, ""), stranger.token(), new JsonObject().put("title", "mine now")),
      api.delete(path(id, ""), stranger.token()),
      api.get(path(id, "/members"), stranger.token()),
      api.post(path(id, "/members"), stranger.token(), new JsonObject().put("userId", stranger.userId())),
      api.delete(path(id, "/members/me"), stranger.token()),
      api.delete(path(id, "/members/" + owner.userId()), stranger.token()),
      api.get(path(id, "/messages"), stranger.token()),
      api.say(stranger, id, "let me in"),
      api.patch(path(id, "/messages/" + messageId), stranger.token(), new JsonObject().put("content", "defaced")),
      api.delete(path(id, "/messages/" + messageId), stranger.token()));
    for (Reply reply : replies) {
      assertEquals(404, reply.status(), reply.text());
      assertEquals("NOT_FOUND", reply.errorCode());
    }
    // Exactly what an id that never existed answers: no existence leak.
    Reply missing = api.get(path("00000000-0000-0000-0000-000000000000", ""), stranger.token());
    assertEquals(replies.get(0).json(), missing.json());
    assertEquals(404, api.get(path("not-a-uuid", ""), stranger.token()).status());
    assertTrue(api.get("/api/conversations", stranger.token()).json().getJsonArray("items").isEmpty());
    assertEquals(1, api.get(path(id, "/messages"), owner.token()).json().getJsonArray("messages").size());
  }

  @Test
  void ownerManagesMembersAndMembersMayLeave() {
    Session owner = api.register("host");
    Session bob = api.register("bob");
    Session carol = api.register("carol");
    String id = api.conversation(owner, "team");

    Reply byEmail = api.post(path(id, "/members"), owner.token(), new JsonObject().put("email", bob.email()));
    assertEquals(201, byEmail.status(), byEmail.text());
    assertEquals(bob.userId(), byEmail.json().getString("userId"));
    assertEquals("member", byEmail.json().getString("role"));
    Reply byId = api.post(path(id, "/members"), owner.token(), new JsonObject().put("userId", carol.userId()));
    assertEquals(201, byId.status(), byId.text());
    assertEquals(201, api.post(path(id, "/members"), owner.token(), new JsonObject().put("userId", carol.userId()))
      .status(), "adding twice is harmless");
    assertEquals(3, api.get(path(id, "/members"), owner.token()).json().getJsonArray("members").size());

    // Members see the conversation and talk in it, but do not manage it.
    assertEquals(200, api.get(path(id, ""), bob.token()).status());
    assertEquals(201, api.say(bob, id, "hi all").status());
    assertEquals(403, api.post(path(id, "/members"), bob.token(), new JsonObject().put("email", "x@example.org")).status());
    assertEquals(403, api.delete(path(id, "/members/" + carol.userId()), bob.token()).status());
    assertEquals(403, api.patch(path(id, ""), bob.token(), new JsonObject().put("title", "bob's")).status());
    assertEquals(403, api.delete(path(id, ""), bob.token()).status());

    Reply unknown = api.post(path(id, "/members"), owner.token(), new JsonObject().put("email", "ghost@example.org"));
    assertEquals(404, unknown.status());

    assertEquals(204, api.delete(path(id, "/members/" + carol.userId()), owner.token()).status());
    assertEquals(404, api.get(path(id, ""), carol.token()).status());
    assertEquals(204, api.delete(path(id, "/members/me"), bob.token()).status());
    assertEquals(404, api.get(path(id, ""), bob.token()).status());
    Reply ownerLeaves = api.delete(path(id, "/members/me"), owner.token());
    assertEquals(400, ownerLeaves.status());
    assertEquals(1, api.get(path(id, "/members"), owner.token()).json().getJsonArray("members").size());
  }

  @Test
  void myConversationsArePagedNewestActivityFirst() {
    Session user = api.register("pager");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      ids.add(api.conversation(user, "c" + i));
    }
    // Activity moves c2 to the front.
    assertEquals(201, api.say(user, ids.get(2), "bump").status());
    List<String> expected = new ArrayList<>(List.of(ids.get(2), ids.get(6), ids.get(5), ids.get(4), ids.get(3),
      ids.get(1), ids.get(0)));

    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Reply page = api.get("/api/conversations?limit=3" + (cursor == null ? "" : "&cursor=" + cursor), user.token());
      assertEquals(200, page.status(), page.text());
      page.json().getJsonArray("items").forEach(item -> seen.add(((JsonObject) item).getString("id")));
      cursor = page.json().getString("nextCursor");
      pages++;
    } while (cursor != null);
    assertEquals(expected, seen);
    assertEquals(3, pages);
    assertEquals(400, api.get("/api/conversations?cursor=garbage", user.token()).status());
    assertEquals(400, api.get("/api/conversations?limit=0", user.token()).status());
    assertEquals(400, api.get("/api/conversations?limit=many", user.token()).status());
  }

  @Test
  void messagesGetConsecutiveSeqsAndPageByAfterAndBefore() {
    Session user = api.register("writer");
    String id = api.conversation(user, "numbers");
    for (int i = 1; i <= 12; i++) {
      Reply posted = api.say(user, id, "message " + i);
      assertEquals(201, posted.status(), posted.text());
      assertEquals(i, posted.json().getLong("seq"));
      assertEquals("user", posted.json().getString("role"));
      assertEquals(user.userId(), posted.json().getJsonObject("sender").getString("id"));
      assertEquals("writer", posted.json().getJsonObject("sender").getString("displayName"));
    }
    assertEquals(List.of(8L, 9L, 10L, 11L, 12L), seqs(api.get(path(id, "/messages?limit=5"), user.token())));
    assertEquals(List.of(3L, 4L, 5L, 6L), seqs(api.get(path(id, "/messages?after=2&limit=4"), user.token())));
    assertEquals(List.of(4L, 5L, 6L), seqs(api.get(path(id, "/messages?before=7&limit=3"), user.token())));
    assertEquals(List.of(5L, 6L), seqs(api.get(path(id, "/messages?after=4&before=7"), user.token())));

    Reply first = api.get(path(id, "/messages?after=0&limit=10"), user.token());
    assertTrue(first.json().getBoolean("hasMore"));
    Reply rest = api.get(path(id, "/messages?after=10&limit=10"), user.token());
    assertFalse(rest.json().getBoolean("hasMore"));
    assertEquals(List.of(11L, 12L), seqs(rest));
    assertEquals(12, api.get(path(id, ""), user.token()).json().getLong("lastSeq"));
    assertEquals(400, api.get(path(id, "/messages?after=-1"), user.token()).status());
    assertEquals(400, api.get(path(id, "/messages?limit=201"), user.token()).status());
  }

  @Test
  void retryingAClientMsgIdReturnsTheOriginalAndStoresNothing() {
    Session user = api.register("retrier");
    String id = api.conversation(user, "idempotent");
    JsonObject message = new JsonObject().put("content", "exactly once").put("clientMsgId", "c-1");
    Reply first = api.post(path(id, "/messages"), user.token(), message);
    Reply retry = api.post(path(id, "/messages"), user.token(), message);
    assertEquals(201, first.status());
    assertEquals(200, retry.status());
    assertEquals(first.json(), retry.json());
    assertEquals("c-1", first.json().getString("clientMsgId"));

    // The retry took no seq: the next message is 2.
    assertEquals(2, api.say(user, id, "next").json().getLong("seq"));
    assertEquals(2, api.get(path(id, "/messages"), user.token()).json().getJsonArray("messages").size());

    // The same clientMsgId from another sender is another message.
    Session other = api.register("other");
    api.post(path(id, "/members"), user.token(), new JsonObject().put("userId", other.userId()));
    Reply theirs = api.post(path(id, "/messages"), other.token(), message);
    assertEquals(201, theirs.status());
    assertEquals(3, theirs.json().getLong("seq"));
  }

  @Test
  void concurrentRetriesOfOneClientMsgIdStoreOneMessage() throws Exception {
    Session user = api.register("racer");
    String id = api.conversation(user, "race");
    JsonObject message = new JsonObject().put("content", "once").put("clientMsgId", "race-1");
    List<Reply> replies = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Future<Reply>> sends = IntStream.range(0, 8)
        .mapToObj(i -> threads.submit(() -> api.post(path(id, "/messages"), user.token(), message))).toList();
      for (Future<Reply> send : sends) {
        replies.add(send.get());
      }
    } finally {
      threads.shutdownNow();
    }
    assertEquals(1, replies.stream().filter(r -> r.status() == 201).count());
    assertTrue(replies.stream().allMatch(r -> r.json().getLong("seq") == 1));
    assertEquals(1, api.get(path(id, "/messages"), user.token()).json().getJsonArray("messages").size());
  }

  @Test
  void messagesWithoutASenderAreIdempotentToo() {
    Session user = api.register("botfriend");
    String id = api.conversation(user, "bots");
    StoreClient store = new StoreClient(node.vertx(), true, 5_000);
    StoreClient.Appended first = store.append(id, null, "assistant", "beep", new JsonObject(), "bot-1").await();
    StoreClient.Appended again = store.append(id, null, "assistant", "beep", new JsonObject(), "bot-1").await();
    assertFalse(first.duplicate());
    assertTrue(again.duplicate());
    assertEquals(first.message(), again.message());
    JsonArray messages = api.get(path(id, "/messages"), user.token()).json().getJsonArray("messages");
    assertEquals(1, messages.size());
    assertNull(messages.getJsonObject(0).getValue("sender"));
    assertEquals("assistant", messages.getJsonObject(0).getString("role"));
  }

  @Test
  void sendersEditAndDeleteTheirOwnMessages() {
    Session owner = api.register("editor");
    Session member = api.register("member");
    String id = api.conversation(owner, "edits");
    api.post(path(id, "/members"), owner.token(), new JsonObject().put("userId", member.userId()));
    String mine = api.say(member, id, "tpyo").json().getString("id");
    String ownersMessage = api.say(owner, id, "owner speaking").json().getString("id");

    Reply edited = api.patch(path(id, "/messages/" + mine), member.token(), new JsonObject().put("content", "typo"));
    assertEquals(200, edited.status(), edited.text());
    assertEquals("typo", edited.json().getString("content"));
    assertTrue(edited.json().getString("editedAt") != null);
    assertEquals(1, edited.json().getLong("seq"));

    assertEquals(403, api.patch(path(id, "/messages/" + ownersMessage), member.token(),
      new JsonObject().put("content", "hijacked")).status());
    assertEquals(403, api.delete(path(id, "/messages/" + ownersMessage), member.token()).status());
    assertEquals(403, api.patch(path(id, "/messages/" + mine), owner.token(),
      new JsonObject().put("content", "owners cannot put words in your mouth")).status());

    assertEquals(204, api.delete(path(id, "/messages/" + mine), member.token()).status());
    JsonArray messages = api.get(path(id, "/messages"), owner.token()).json().getJsonArray("messages");
    JsonObject tombstone = messages.getJsonObject(0);
    assertTrue(tombstone.getBoolean("deleted"));
    assertNull(tombstone.getString("content"));
    assertEquals(1, tombstone.getLong("seq"), "a deleted message keeps its place");
    assertEquals(404, api.patch(path(id, "/messages/" + mine), member.token(), new JsonObject().put("content", "x"))
      .status());
    assertEquals(404, api.delete(path(id, "/messages/" + mine), member.token()).status());
    assertEquals(404, api.delete(path(id, "/messages/not-a-uuid"), member.token()).status());

    // The owner moderates: it may delete anyone's message.
    String another = api.say(member, id, "spam").json().getString("id");
    assertEquals(204, api.delete(path(id, "/messages/" + another), owner.token()).status());
  }

  @Test
  void badInputIsRejectedWithTheFieldNamedAndNothingStored() {
    Session user = api.register("careless");
    String id = api.conversation(user, "validation");
    Expect.invalid(api.post(path(id, "/messages"), user.token(), new JsonObject()), "content");
    Expect.invalid(api.post(path(id, "/messages"), user.token(), new JsonObject().put("content", "   ")), "content");
    Expect.invalid(api.post(path(id, "/messages"), user.token(), new JsonObject().put("content", 7)), "content");
    Expect.invalid(api.post(path(id, "/messages"), user.token(), new JsonObject().put("content", "ok")
      .put("clientMsgId", "x".repeat(65))), "clientMsgId");
    Expect.invalid(api.post(path(id, "/messages"), user.token(), new JsonObject().put("content", "ok")
      .put("metadata", "not an object")), "metadata");
    Expect.invalid(api.post("/api/conversations", user.token(), new JsonObject().put("assistantMode", "sometimes")),
      "assistantMode");
    Expect.invalid(api.post("/api/conversations", user.token(), new JsonObject().put("title", "t".repeat(201))),
      "title");
    Expect.invalid(api.patch(path(id, ""), user.token(), new JsonObject()), "title");
    Reply malformed = api.raw(HttpMethod.POST, path(id, "/messages"), "Bearer " + user.token(), Buffer.buffer("{oops"));
    assertEquals(400, malformed.status());
    assertEquals("INVALID_INPUT", malformed.errorCode());

    Expect.invalid(api.say(user, id, "nul\u0000byte"), "content");
    Expect.invalid(api.patch(path(id, ""), user.token(), new JsonObject().put("title", "a\u0000b")), "title");
    Expect.invalid(api.post(path(id, "/messages"), user.token(), new JsonObject().put("content", "ok")
      .put("metadata", new JsonObject().put("k", "\u0000"))), "metadata");

    // Limits count characters as people do: 500 emoji fit in 500 characters.
    assertEquals(201, api.say(user, id, "\uD83D\uDE00".repeat(500)).status());
    Reply tooManyEmoji = api.say(user, id, "\uD83D\uDE00".repeat(501));
    assertEquals(413, tooManyEmoji.status());
    assertTrue(tooManyEmoji.errorMessage().contains("content"), tooManyEmoji.errorMessage());

    Reply tooLong = api.say(user, id, "x".repeat(501));
    assertEquals(413, tooLong.status());
    assertEquals("TOO_LARGE", tooLong.errorCode());

    Reply tooBig = api.raw(HttpMethod.POST, path(id, "/messages"), "Bearer " + user.token(),
      new JsonObject().put("content", "y".repeat(9000)).toBuffer());
    assertEquals(413, tooBig.status());
    assertEquals("TOO_LARGE", tooBig.errorCode());

    // None of the rejected messages took a seq or a row: only the 500 emoji did.
    assertEquals(1, api.get(path(id, ""), user.token()).json().getLong("lastSeq"));
    assertEquals(2, api.say(user, id, "finally").json().getLong("seq"));
  }

  @Test
  void unknownRoutesAndMethodsAnswerJsonErrors() {
    Reply unknown = api.get("/api/nothing-here", null);
    assertEquals(404, unknown.status());
    assertEquals("NOT_FOUND", unknown.errorCode());
    Reply wrongMethod = api.raw(HttpMethod.PUT, "/api/auth/login", null, null);
    assertEquals(405, wrongMethod.status(), wrongMethod.text());
    assertEquals("INVALID_INPUT", wrongMethod.errorCode());
    Reply unauthenticated = api.get("/api/conversations", null);
    assertEquals(401, unauthenticated.status());
    assertEquals("UNAUTHORIZED", unauthenticated.errorCode());
  }

  @Test
  void browsersOnAConfiguredOriginMayCallTheApiAndOthersMayNot() {
    Session user = api.register("browser");
    io.vertx.core.MultiMap preflight = io.vertx.core.MultiMap.caseInsensitiveMultiMap()
      .add("Origin", "https://app.example.org")
      .add("Access-Control-Request-Method", "POST")
      .add("Access-Control-Request-Headers", "authorization,content-type");
    Reply allowed = api.raw(HttpMethod.OPTIONS, "/api/conversations", null, null, preflight);
    assertTrue(allowed.status() == 200 || allowed.status() == 204, allowed.toString());
    assertEquals("https://app.example.org", allowed.headers().get("Access-Control-Allow-Origin"));
    assertTrue(allowed.headers().get("Access-Control-Allow-Headers").toLowerCase().contains("authorization"));

    Reply actual = api.raw(HttpMethod.GET, "/api/conversations", "Bearer " + user.token(), null,
      io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Origin", "https://app.example.org"));
    assertEquals(200, actual.status());
    assertEquals("https://app.example.org", actual.headers().get("Access-Control-Allow-Origin"));

    Reply foreign = api.raw(HttpMethod.GET, "/api/conversations", "Bearer " + user.token(), null,
      io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Origin", "https://evil.example.com"));
    assertEquals(403, foreign.status(), foreign.text());
    assertEquals("FORBIDDEN", foreign.errorCode());
    assertNull(foreign.headers().get("Access-Control-Allow-Origin"));

    // The node's own origin (its web client) needs no listing.
    Reply own = api.raw(HttpMethod.POST, "/api/conversations", "Bearer " + user.token(), Buffer.buffer("{}"),
      io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Origin", "http://127.0.0.1:" + node.httpPort()));
    assertEquals(201, own.status(), own.text());
  }

  private static List<Long> seqs(Reply page) {
    assertEquals(200, page.status(), page.text());
    return page.json().getJsonArray("messages").stream().map(m -> ((JsonObject) m).getLong("seq")).toList();
  }
}
