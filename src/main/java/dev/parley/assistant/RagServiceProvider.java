package dev.parley.assistant;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Passage;
import dev.parley.config.ParleyConfig;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * An external RAG service at {@code RAG_SERVICE_URL} (README, "The RAG service contract"). Parley POSTs
 * {@code {question, asker, history: [{role, name, content}], passages: [{chunkId, documentId, title, content,
 * rank}], context?}} and reads Server-Sent Events back: {@code {"type":"chunk","content":…}} for each piece, then
 * {@code {"type":"completion","metadata":{"model":…,"usage":{"inputTokens":…,"outputTokens":…}}}} and
 * {@code [DONE]}; {@code {"type":"error","message":…}} is a failure.
 */
final class RagServiceProvider extends HttpProvider {

  private final String url;

  RagServiceProvider(Vertx vertx, ParleyConfig.Assistant settings) {
    super(vertx, "http", settings, null);
    this.url = settings.ragServiceUrl();
  }

  @Override
  protected RequestOptions request(Prompt prompt) {
    return post(url, MultiMap.caseInsensitiveMultiMap());
  }

  @Override
  protected JsonObject body(Prompt prompt) {
    JsonArray history = new JsonArray();
    for (ChatMessage message : prompt.history()) {
      if (!message.deleted()) {
        history.add(new JsonObject().put("role", message.role()).put("name", message.senderName())
          .put("content", message.content()));
      }
    }
    JsonArray passages = new JsonArray();
    for (Passage passage : prompt.passages()) {
      passages.add(new JsonObject().put("chunkId", passage.chunkId()).put("documentId", passage.documentId())
        .put("title", passage.title()).put("content", passage.content()).put("rank", passage.rank()));
    }
    return new JsonObject().put("question", prompt.question()).put("asker", prompt.askerName())
      .put("history", history).put("passages", passages).put("context", prompt.context());
  }

  @Override
  protected void event(String event, JsonObject json, Sink sink) {
    switch (json.getString("type", "")) {
      case "chunk" -> sink.text(json.getString("content"));
      case "completion" -> {
        JsonObject metadata = json.getJsonObject("metadata", new JsonObject());
        sink.model(metadata.getString("model"));
        JsonObject usage = metadata.getJsonObject("usage");
        if (usage != null) {
          sink.inputTokens(usage.getLong("inputTokens", 0L));
          sink.outputTokens(usage.getLong("outputTokens", 0L));
        }
      }
      case "error" -> sink.fail("sent an error: " + json.getString("message", ""));
      default -> {
        // unknown event types are ignored, so the service may add its own
      }
    }
  }
}
