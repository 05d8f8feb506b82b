package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /api/chat} and {@code /api/chat/stream}: the assistant over plain HTTP, JSON or SSE. */
@Timeout(60)
class ChatApiTest {

  private static Parley node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
      .put("RATE_LIMIT_ASSISTANT_PER_MIN", 3));
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static Session withDocument(String name) {
    Session user = api.register(name);
    api.upload("/api/documents", user.token(), "owls.txt", ("Owls hunt at night. Their feathers are soft, so "
      + "their flight is silent.").getBytes(StandardCharsets.UTF_8), Map.of());
    return user;
  }

  /** The data lines of an SSE body, in order. */
  private static List<String> events(String body) {
    List<String> events = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      for (String line : block.split("\n")) {
        if (line.startsWith("data: ")) {
          events.add(line.substring(6));
        }
      }
    }
    return events;
  }

  @Test
  void aQuestionWithoutAConversationStartsOneAndAnswersAsJson() {
    Session ada = withDocument("ada");
    Reply reply = api.post("/api/chat", ada.token(), new JsonObject().put("message", "Why is an owl's flight silent?"));
    assertEquals(200, reply.status(), reply.text());
    JsonObject body = reply.json();
    String conversationId = body.getString("conversationId");
    assertEquals("user", body.getJsonObject("message").getString("role"));
    JsonObject answer = body.getJsonObject("answer");
    assertEquals("assistant", answer.getString("role"));
    assertTrue(answer.getString("content").contains("silent"), answer.encode());
    assertEquals("owls.txt", body.getJsonObject("metadata").getJsonArray("sources").getJsonObject(0).getString("title"));
    JsonObject conversation = api.get("/api/conversations/" + conversationId, ada.token()).json();
    assertEquals("always", conversation.getString("assistantMode"));
    assertEquals(2, conversation.getLong("lastSeq"), "question and answer stored");
  }

  @Test
  void streamTrueAnswersAsServerSentEvents() {
    Session bo = withDocument("bo");
    Reply reply = api.post("/api/chat", bo.token(), new JsonObject().put("message", "When do owls hunt?")
      .put("stream", true));
    assertEquals(200, reply.status(), reply.text());
    assertEquals("no", reply.headers().get("X-Accel-Buffering"));
    assertTrue(reply.headers().get("Content-Type").startsWith("text/event-stream"));
    List<String> events = events(reply.text());
    assertEquals("[DONE]", events.get(events.size() - 1));
    JsonObject completion = new JsonObject(events.get(events.size() - 2));
    assertEquals("completion", completion.getString("type"));
    StringBuilder text = new StringBuilder();
    events.stream().filter(e -> e.startsWith("{")).map(JsonObject::new)
      .filter(e -> "chunk".equals(e.getString("type"))).forEach(e -> text.append(e.getString("content")));
    assertEquals(completion.getJsonObject("message").getString("content"), text.toString());
    assertTrue(text.toString().contains("night"), text.toString());
  }

  @Test
  void theStreamEndpointTakesAFormAndOthersInTheRoomWatch() {
    Session cy = withDocument("cy");
    Session dot = api.register("dot");
    String room = api.conversation(cy, "watched");
    api.post("/api/conversations/" + room + "/members", cy.token(), new JsonObject().put("userId", dot.userId()));
    try (Ws watcher = Ws.open(node.httpPort(), dot.token())) {
      watcher.join(room);
      Reply reply = api.raw(HttpMethod.POST, "/api/chat/stream", "Bearer " + cy.token(),
        Buffer.buffer("message=" + java.net.URLEncoder.encode("@assistant when do owls hunt?", StandardCharsets.UTF_8)
          + "&conversationId=" + room),
        MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/x-www-form-urlencoded"));
      assertEquals(200, reply.status(), reply.text());
      assertTrue(events(reply.text()).contains("[DONE]"), reply.text());
      JsonObject complete = watcher.await("complete");
      assertTrue(complete.getJsonObject("message").getString("content").contains("night"));
    }
  }

  @Test
  void aRetriedQuestionIsNotAskedTwice() {
    Session gus = api.register("gus");
    JsonObject question = new JsonObject().put("message", "hello").put("clientMsgId", "once");
    Reply first = api.post("/api/chat", gus.token(), question);
    assertEquals(200, first.status(), first.text());
    String room = first.json().getString("conversationId");
    Reply again = api.post("/api/chat", gus.token(), question.copy().put("conversationId", room));
    assertEquals(200, again.status(), again.text());
    assertTrue(again.json().getBoolean("duplicate"));
    assertEquals(first.json().getJsonObject("message").getString("id"), again.json().getJsonObject("message").getString("id"));
    assertEquals(2, api.get("/api/conversations/" + room, gus.token()).json().getLong("lastSeq"), "one answer only");
  }

  @Test
  void refusalsAreOrdinaryHttpErrors() {
    Session eve = api.register("eve");
    Session fay = api.register("fay");
    String private_ = api.conversation(eve, "private");
    assertEquals(404, api.post("/api/chat", fay.token(), new JsonObject().put("message", "hi")
      .put("conversationId", private_)).status());
    assertEquals(400, api.post("/api/chat", fay.token(), new JsonObject()).status());
    assertEquals(401, api.post("/api/chat", null, new JsonObject().put("message", "hi")).status());
    String room = api.conversation(fay, "busy");
    for (int i = 0; i < 3; i++) {
      assertEquals(200, api.post("/api/chat", fay.token(), new JsonObject().put("message", "hello")
        .put("conversationId", room)).status());
    }
    Reply limited = api.post("/api/chat", fay.token(), new JsonObject().put("message", "hello").put("conversationId", room));
    assertEquals(429, limited.status(), limited.text());
    assertEquals(6, api.get("/api/conversations/" + room, fay.token()).json().getLong("lastSeq"),
      "the refused question was not stored");
    Reply noRoom = api.post("/api/chat", fay.token(), new JsonObject().put("message", "hello"));
    assertEquals(429, noRoom.status());
    assertEquals(1, api.get("/api/conversations", fay.token()).json().getJsonArray("items").size(),
      "nor a conversation started for it");
    assertEquals("RATE_LIMIT", limited.errorCode());
    assertTrue(limited.json().getJsonObject("error").getLong("retryAfterMs") > 0);
    assertTrue(limited.headers().get("Retry-After") != null);
  }
}
