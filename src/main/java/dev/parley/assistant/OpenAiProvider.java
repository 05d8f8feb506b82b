package dev.parley.assistant;

import dev.parley.config.ParleyConfig;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Any OpenAI-compatible {@code POST /chat/completions} with {@code stream: true}: OpenAI itself, Ollama, vLLM,
 * llama.cpp's server. Text comes in {@code choices[0].delta.content}, token counts in the last event
 * ({@code stream_options.include_usage}), the end as {@code data: [DONE]}; an {@code error} object is a failure.
 */
final class OpenAiProvider extends HttpProvider {

  static final String DEFAULT_MODEL = "gpt-4o-mini";

  private final String url;
  private final String apiKey;

  OpenAiProvider(Vertx vertx, ParleyConfig.Assistant settings) {
    super(vertx, "openai", settings, DEFAULT_MODEL);
    this.url = settings.openaiBaseUrl().replaceAll("/+$", "") + "/chat/completions";
    this.apiKey = settings.openaiApiKey();
  }

  @Override
  protected RequestOptions request(Prompt prompt) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (apiKey != null) {
      headers.add("Authorization", "Bearer " + apiKey);
    }
    return post(url, headers);
  }

  @Override
  protected JsonObject body(Prompt prompt) {
    JsonArray messages = new JsonArray().add(new JsonObject().put("role", "system")
      .put("content", PromptBuilder.system(prompt)));
    PromptBuilder.turns(prompt).forEach(messages::add);
    return new JsonObject().put("model", model).put("stream", true).put("max_tokens", maxTokens)
      .put("stream_options", new JsonObject().put("include_usage", true)).put("messages", messages);
  }

  @Override
  protected void event(String event, JsonObject json, Sink sink) {
    JsonObject error = json.getJsonObject("error");
    if (error != null) {
      sink.fail("sent an error: " + error.getString("message", error.encode()));
      return;
    }
    sink.model(json.getString("model"));
    JsonArray choices = json.getJsonArray("choices", new JsonArray());
    if (!choices.isEmpty()) {
      JsonObject delta = choices.getJsonObject(0).getJsonObject("delta", new JsonObject());
      sink.text(delta.getString("content"));
    }
    JsonObject usage = json.getJsonObject("usage");
    if (usage != null) {
      sink.inputTokens(usage.getLong("prompt_tokens", 0L));
      sink.outputTokens(usage.getLong("completion_tokens", 0L));
    }
  }
}
