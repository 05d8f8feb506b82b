package dev.parley;

import dev.parley.support.Answers;
import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The assistant in the room, with the extractive provider: when it answers, how, and what it stores. */
@Timeout(60)
class AssistantTest {

  private static Parley node;
  private static Api api;
  private static int port;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
      .put("RATE_LIMIT_ASSISTANT_PER_MIN", 1000));
    port = node.httpPort();
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static String room(Session owner, String mode) {
    String id = api.conversation(owner, "with the assistant");
    assertEquals(200, api.patch("/api/conversations/" + id, owner.token(), new JsonObject().put("assistantMode", mode))
      .status());
    return id;
  }

  private static void upload(Session owner, String filename, String text) {
    Reply reply = api.upload("/api/documents", owner.token(), filename, text.getBytes(StandardCharsets.UTF_8), Map.of());
    assertEquals(201, reply.status(), reply.text());
  }

  private static List<JsonObject> answer(Ws ws) {
    return Answers.collect(ws);
  }

  private static String text(List<JsonObject> frames) {
    return Answers.text(frames);
  }

  private static List<String> steps(List<JsonObject> frames) {
    return Answers.steps(frames);
  }

  @Test
  void aQuestionIsAnsweredFromTheDocumentsAndStored() {
    Session ada = api.register("ada");
    upload(ada, "tides.md", "# Tides\n\nTides are caused by the gravitational pull of the moon on the oceans. "
      + "The sun adds a smaller pull.\n\nSpring tides happen at new and full moon.");
    String id = room(ada, "always");
    try (Ws ws = Ws.open(port, ada.token())) {
      ws.join(id);
      ws.say(id, "What causes the tides?", "q-1");
      List<JsonObject> frames = answer(ws);
      assertEquals(List.of("routing", "retrieving", "grading", "generating"), steps(frames));
      JsonObject complete = frames.get(frames.size() - 1);
      assertEquals("complete", complete.getString("type"), frames.toString());
      JsonObject stored = complete.getJsonObject("message");
      assertEquals("assistant", stored.getString("role"));
      assertEquals(2, stored.getLong("seq"));
      assertEquals(text(frames), stored.getString("content"), "the streamed text is the stored text");
      assertTrue(stored.getString("content").contains("gravitational pull of the moon"), stored.encode());
      JsonObject metadata = complete.getJsonObject("metadata");
      assertEquals("question", metadata.getString("intent"));
      assertEquals("extractive", metadata.getString("model"));
      assertEquals("tides.md", metadata.getJsonArray("sources").getJsonObject(0).getString("title"));
      assertFalse(metadata.getJsonArray("sources").getJsonObject(0).getJsonArray("chunkIds").isEmpty());
      assertTrue(metadata.getDouble("confidence") > 0);
      assertEquals(1, metadata.getInteger("chunksUsed"));
      assertTrue(metadata.getJsonObject("usage").getLong("outputTokens") > 0);
      assertFalse(metadata.getBoolean("stopped"));
      // The stored message also reaches the room as a message with its seq, and is listed.
      assertEquals(2, ws.await("message", f -> "assistant".equals(f.getString("role"))).getLong("seq"));
      JsonObject listed = api.get("/api/conversations/" + id + "/messages", ada.token()).json()
        .getJsonArray("messages").getJsonObject(1);
      assertEquals(stored.getString("id"), listed.getString("id"));
      assertEquals("tides.md", listed.getJsonObject("metadata").getJsonArray("sources").getJsonObject(0)
        .getString("title"));
    }
  }

  @Test
  void itSaysPlainlyWhenNothingRelevantWasFound() {
    Session bo = api.register("bo");
    String id = room(bo, "always");
    try (Ws ws = Ws.open(port, bo.token())) {
      ws.join(id);
      ws.say(id, "What is the boiling point of mercury?", "q-1");
      JsonObject complete = answer(ws).stream().filter(f -> "complete".equals(f.getString("type"))).findFirst()
        .orElseThrow();
      assertTrue(complete.getJsonObject("message").getString("content").startsWith("I could not find anything"));
      assertEquals(0.0, complete.getJsonObject("metadata").getDouble("confidence"));
      assertEquals(0, complete.getJsonObject("metadata").getJsonArray("sources").size());
    }
  }

  @Test
  void greetingsAndThanksAreAnsweredAtOnceInTheirLanguage() {
    Session cy = api.register("cy");
    String id = room(cy, "always");
    try (Ws ws = Ws.open(port, cy.token())) {
      ws.join(id);
      ws.say(id, "Hello!", "g-1");
      List<JsonObject> hello = answer(ws);
      assertEquals(List.of("routing"), steps(hello), "no retrieval, no model");
      JsonObject complete = hello.get(hello.size() - 1);
      assertEquals("greeting", complete.getJsonObject("metadata").getString("intent"));
      assertEquals("none", complete.getJsonObject("metadata").getString("model"));
      assertTrue(complete.getJsonObject("message").getString("content").startsWith("Hello"));
      assertEquals(complete.getJsonObject("message").getString("content"), text(hello), "streamed like any answer");

      ws.say(id, "नमस्ते", "g-2");
      List<JsonObject> namaste = answer(ws);
      assertTrue(namaste.get(namaste.size() - 1).getJsonObject("message").getString("content").startsWith("नमस्ते"));
      ws.say(id, "bahut shukriya", "g-3");
      List<JsonObject> thanks = answer(ws);
      assertEquals("thanks", thanks.get(thanks.size() - 1).getJsonObject("metadata").getString("intent"));
      ws.say(id, "theek hai", "g-4");
      List<JsonObject> ok = answer(ws);
      assertEquals("confirmation", ok.get(ok.size() - 1).getJsonObject("metadata").getString("intent"));
    }
  }

  @Test
  void mentionModeAnswersOnlyWhenAddressedAndOffNever() {
    Session dee = api.register("dee");
    String mention = room(dee, "mention");
    String off = room(dee, "off");
    try (Ws ws = Ws.open(port, dee.token())) {
      ws.join(mention);
      ws.join(off);
      ws.say(mention, "just chatting, no question", "m-1");
      ws.say(off, "@assistant are you there?", "o-1");
      ws.say(mention, "@assistant hi", "m-2");
      List<JsonObject> frames = answer(ws);
      JsonObject complete = frames.get(frames.size() - 1);
      assertEquals(mention, complete.getString("conversationId"));
      assertEquals("greeting", complete.getJsonObject("metadata").getString("intent"));
      assertEquals(3, complete.getJsonObject("message").getLong("seq"), "only the addressed message got an answer");
    }
    assertEquals(1, api.get("/api/conversations/" + off + "/messages", dee.token()).json().getJsonArray("messages")
      .size(), "off: never");
  }

  @Test
  void aRoomStartedWithTheAssistantTurnsToMentionWhenOthersJoinUnlessChosen() {
    Session kay = api.register("kay");
    Session lou = api.register("lou");
    String started;
    try (Ws ws = Ws.open(port, kay.token())) {
      ws.send(new JsonObject().put("type", "join").put("conversationId", "new"));
      started = ws.await("joined").getString("conversationId");
      assertEquals(201, api.post("/api/conversations/" + started + "/members", kay.token(),
        new JsonObject().put("userId", lou.userId())).status());
      assertEquals("updated", ws.await("conversation").getString("change"));
    }
    assertEquals("mention", api.get("/api/conversations/" + started, kay.token()).json().getString("assistantMode"));
    String chosen = room(kay, "always");
    api.post("/api/conversations/" + chosen + "/members", kay.token(), new JsonObject().put("userId", lou.userId()));
    assertEquals("always", api.get("/api/conversations/" + chosen, kay.token()).json().getString("assistantMode"),
      "a mode someone chose stays");
  }

  @Test
  void stopKeepsWhatWasWrittenMarkedStopped() {
    Session eli = api.register("eli");
    StringBuilder long_ = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      long_.append("The lighthouse keeper logged the weather at dawn, noon and dusk every single day. ");
    }
    upload(eli, "lighthouse.txt", long_.toString());
    String id = room(eli, "always");
    try (Ws ws = Ws.open(port, eli.token())) {
      ws.join(id);
      ws.say(id, "What did the lighthouse keeper log?", "s-1");
      JsonObject first = ws.await("chunk");
      ws.send(new JsonObject().put("type", "stop").put("conversationId", id).put("requestId", first.getString("requestId")));
      JsonObject complete = ws.await("complete");
      assertTrue(complete.getJsonObject("metadata").getBoolean("stopped"));
      String stored = complete.getJsonObject("message").getString("content");
      assertTrue(stored.startsWith(first.getString("content")), stored);
      assertFalse(stored.contains("Sources:"), "cut before the end: " + stored);
    }
  }

  @Test
  void aMemberWhoJoinsMidAnswerGetsTheTextSoFarThenTheRest() {
    Session ida = api.register("ida");
    Session jon = api.register("jon");
    StringBuilder long_ = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      // Long sentences make a long answer (about a second as it is written), so the join lands mid-way.
      long_.append("The orchard keeper pruned the apple trees in winter, ").append("sharpening the shears, "
        .repeat(12)).append("and picked the fruit in autumn. ");
    }
    upload(ida, "orchard.txt", long_.toString());
    String id = room(ida, "always");
    api.post("/api/conversations/" + id + "/members", ida.token(), new JsonObject().put("userId", jon.userId()));
    try (Ws asker = Ws.open(port, ida.token())) {
      asker.join(id);
      asker.say(id, "What did the orchard keeper do with the apple trees?", "j-1");
      asker.await("chunk");
      asker.await("chunk");
      try (Ws late = Ws.open(port, jon.token())) {
        late.join(id);
        StringBuilder seen = new StringBuilder();
        JsonObject first = late.await("chunk");
        assertEquals(0, first.getLong("offset"), "the text so far comes first, from the start");
        assertTrue(first.getString("content").length() > 0);
        seen.append(first.getString("content"));
        while (true) {
          JsonObject next = late.await(f -> "chunk".equals(f.getString("type")) || "complete".equals(f.getString("type")),
            10_000);
          if ("complete".equals(next.getString("type"))) {
            assertEquals(next.getJsonObject("message").getString("content"), seen.toString(),
              "the text so far and the rest add up to the answer, nothing twice");
            break;
          }
          assertEquals(seen.length(), next.getLong("offset"));
          seen.append(next.getString("content"));
        }
      }
    }
  }

  @Test
  void theAnswerBelongsToTheRoomNotToTheSocketThatAsked() {
    Session fay = api.register("fay");
    Session gil = api.register("gil");
    String id = room(fay, "always");
    api.post("/api/conversations/" + id + "/members", fay.token(), new JsonObject().put("userId", gil.userId()));
    try (Ws watcher = Ws.open(port, gil.token())) {
      watcher.join(id);
      try (Ws asker = Ws.open(port, fay.token())) {
        asker.say(id, "hello there", "r-1");
      }
      JsonObject complete = watcher.await("complete");
      assertEquals("assistant", complete.getJsonObject("message").getString("role"));
    }
  }

  @Test
  void overRestTheResponseSaysTheAssistantIsAnswering() {
    Session hal = api.register("hal");
    String id = room(hal, "always");
    Reply posted = api.say(hal, id, "good morning");
    assertEquals(201, posted.status(), posted.text());
    assertNotNull(posted.json().getJsonObject("assistant").getString("requestId"), posted.text());
  }
}
