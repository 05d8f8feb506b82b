package dev.parley.assistant;

import dev.parley.config.ParleyConfig;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * Anthropic's Messages API, streaming: {@code x-api-key} and {@code anthropic-version} headers; the model and the
 * input tokens in {@code message_start}, text in {@code content_block_delta}, output tokens in
 * {@code message_delta}, the end as {@code message_stop}; an {@code error} event (overloaded, for one) is a
 * failure, as is HTTP 429 or 529.
 */
final class AnthropicProvider extends HttpProvider {

  static final String DEFAULT_MODEL = "claude-3-5-haiku-latest";
  static final String VERSION = "2023-06-01";

  private final String url;
  private final String apiKey;

  AnthropicProvider(Vertx vertx, ParleyConfig.Assistant settings) {
    super(vertx, "anthropic", settings, DEFAULT_MODEL);
    this.url = settings.anthropicBaseUrl().replaceAll("/+$", "") + "/v1/messages";
    this.apiKey = settings.anthropicApiKey();
  }

  @Override
  protected RequestOptions request(Prompt prompt) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("anthropic-version", VERSION);
    if (apiKey != null) {
      headers.add("x-api-key", apiKey);
    }
    return post(url, headers);
  }

  @Override
  protected JsonObject body(Prompt prompt) {
    return new JsonObject().put("model", model).put("max_tokens", maxTokens).put("stream", true)
      .put("system", PromptBuilder.system(prompt)).put("messages", PromptBuilder.turns(prompt));
  }

  @Override
  protected void event(String event, JsonObject json, Sink sink) {
    String type = event != null ? event : json.getString("type", "");
    switch (type) {
      case "message_start" -> {
        JsonObject message = json.getJsonObject("message", new JsonObject());
        sink.model(message.getString("model"));
        JsonObject usage = message.getJsonObject("usage");
        if (usage != null) {
          sink.inputTokens(usage.getLong("input_tokens", 0L));
        }
      }
      case "content_block_delta" -> {
        JsonObject delta = json.getJsonObject("delta", new JsonObject());
        if ("text_delta".equals(delta.getString("type"))) {
          sink.text(delta.getString("text"));
        }
      }
      case "message_delta" -> {
        JsonObject usage = json.getJsonObject("usage");
        if (usage != null) {
          sink.outputTokens(usage.getLong("output_tokens", 0L));
        }
      }
      case "message_stop" -> sink.done();
      case "error" -> sink.fail("sent an error: " + json.getJsonObject("error", new JsonObject())
        .getString("type", "unknown") + ": " + json.getJsonObject("error", new JsonObject()).getString("message", ""));
      default -> {
        // ping, content_block_start, content_block_stop: nothing to do
      }
    }
  }
}
