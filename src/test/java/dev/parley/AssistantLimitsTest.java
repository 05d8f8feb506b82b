package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The assistant's limits and failures: its rate limit, the daily quota, a timeout, the fallback. */
@Timeout(60)
class AssistantLimitsTest {

  private Parley node;
  private Api api;

  @AfterEach
  void stop() {
    api.close();
    node.stop().await();
  }

  private void start(JsonObject settings) {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()).mergeIn(settings));
    api = new Api(node.httpPort());
  }

  private String room(Session owner) {
    String id = api.conversation(owner, "limits");
    api.patch("/api/conversations/" + id, owner.token(), new JsonObject().put("assistantMode", "always"));
    return id;
  }

  private String longDocument(Session owner) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      text.append("The lighthouse keeper logged the weather at dawn, noon and dusk every single day. ");
    }
    Reply reply = api.upload("/api/documents", owner.token(), "lighthouse.txt",
      text.toString().getBytes(StandardCharsets.UTF_8), Map.of());
    assertEquals(201, reply.status(), reply.text());
    return reply.json().getString("id");
  }

  @Test
  void theAssistantRateLimitRefusesWithRetryAfterAndStoresNoAnswer() {
    start(new JsonObject().put("RATE_LIMIT_ASSISTANT_PER_MIN", 2));
    Session ann = api.register("ann");
    String id = room(ann);
    try (Ws ws = Ws.open(node.httpPort(), ann.token())) {
      ws.join(id);
      for (int i = 0; i < 2; i++) {
        ws.say(id, "hello", "h-" + i);
        ws.await("complete");
      }
      assertEquals("ack", ws.say(id, "hello again", "h-2").getString("type"), "the message itself is stored");
      JsonObject refused = ws.await("error", f -> "h-2".equals(f.getString("clientMsgId")));
      assertEquals("RATE_LIMIT", refused.getString("code"));
      assertTrue(refused.getLong("retryAfterMs") > 0);
    }
    assertEquals(5, api.get("/api/conversations/" + id + "/messages", ann.token()).json().getJsonArray("messages")
      .size(), "three questions, two answers");
  }

  @Test
  void theDailyTokenQuotaIsKeptPerUser() {
    start(new JsonObject().put("ASSISTANT_DAILY_TOKENS", 20));
    Session ben = api.register("ben");
    Session cat = api.register("cat");
    String id = room(ben);
    try (Ws ws = Ws.open(node.httpPort(), ben.token())) {
      ws.join(id);
      ws.say(id, "What is the capital of Atlantis?", "q-1");
      ws.await("complete");
      ws.say(id, "And of Lemuria?", "q-2");
      JsonObject refused = ws.await("error", f -> "q-2".equals(f.getString("clientMsgId")));
      assertEquals("RATE_LIMIT", refused.getString("code"));
      assertTrue(refused.getString("message").contains("quota"), refused.encode());
      assertTrue(refused.getLong("retryAfterMs") <= 86_400_000L);
    }
    String other = room(cat);
    Reply fresh = api.say(cat, other, "What is the capital of Atlantis?");
    assertTrue(fresh.json().getJsonObject("assistant").containsKey("requestId"), "another user has a quota of their own");
  }

  @Test
  void aTimeoutIsAnErrorAndStoresNothing() {
    start(new JsonObject().put("ASSISTANT_TIMEOUT_MS", 100));
    Session dan = api.register("dan");
    longDocument(dan);
    String id = room(dan);
    try (Ws ws = Ws.open(node.httpPort(), dan.token())) {
      ws.join(id);
      ws.say(id, "What did the lighthouse keeper log at dawn?", "t-1");
      String updatedBefore = api.get("/api/conversations/" + id, dan.token()).json().getString("updatedAt");
      JsonObject error = ws.await("error", f -> f.getString("requestId") != null);
      assertEquals("ASSISTANT_UNAVAILABLE", error.getString("code"));
      assertTrue(error.getString("message").contains("100 ms"), error.encode());
      JsonObject conversation = api.get("/api/conversations/" + id, dan.token()).json();
      assertEquals(1, conversation.getLong("lastSeq"), "nothing half-written is stored");
      assertEquals(updatedBefore, conversation.getString("updatedAt"));
    }
  }

  @Test
  void withTheFallbackAFailureStillAnswersFromRetrievalMarkedAsSuch() {
    start(new JsonObject().put("ASSISTANT_TIMEOUT_MS", 100).put("ASSISTANT_FALLBACK", true));
    Session eve = api.register("eve");
    String document = longDocument(eve);
    String id = room(eve);
    try (Ws ws = Ws.open(node.httpPort(), eve.token())) {
      ws.join(id);
      ws.say(id, "What did the lighthouse keeper log at dawn?", "f-1");
      JsonObject complete = ws.await("complete");
      JsonObject metadata = complete.getJsonObject("metadata");
      assertTrue(metadata.getBoolean("fallback"), metadata.encode());
      assertEquals(document, metadata.getJsonArray("sources").getJsonObject(0).getString("documentId"));
      assertTrue(complete.getJsonObject("message").getString("content").contains("lighthouse keeper"));
    }
  }
}
