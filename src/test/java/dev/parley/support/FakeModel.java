package dev.parley.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A model vendor on port 0, speaking the real streaming wire formats: OpenAI's chat completions
 * ({@code POST /v1/chat/completions}), Anthropic's Messages API ({@code POST /v1/messages}) and Parley's RAG
 * service contract ({@code POST /rag}). What it does next is set with {@link #next}: answer, answer slowly, fail
 * with a status, send an error event mid-stream, or hang. It keeps the last request, counts requests, and
 * notices when a client resets one.
 */
public final class FakeModel implements AutoCloseable {

  public enum Behaviour { ANSWER, SLOW, STATUS_500, STATUS_429, STATUS_529, ERROR_EVENT, HANG }

  public static final String ANSWER = "The fake model says the tides follow the moon.";
  public static final String MODEL = "fake-model-1";

  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final AtomicReference<Behaviour> behaviour = new AtomicReference<>(Behaviour.ANSWER);
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicReference<JsonObject> lastBody = new AtomicReference<>();
  private final AtomicReference<io.vertx.core.MultiMap> lastHeaders = new AtomicReference<>();
  private volatile CompletableFuture<Void> reset = new CompletableFuture<>();

  public FakeModel() {
    server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  public int port() {
    return server.actualPort();
  }

  public void next(Behaviour next) {
    behaviour.set(next);
    reset = new CompletableFuture<>();
  }

  public int requests() {
    return requests.get();
  }

  public JsonObject lastBody() {
    return lastBody.get();
  }

  public io.vertx.core.MultiMap lastHeaders() {
    return lastHeaders.get();
  }

  /** Completes when a client closes a request before its answer ended. */
  public CompletableFuture<Void> reset() {
    return reset;
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      requests.incrementAndGet();
      lastBody.set(body.toJsonObject());
      lastHeaders.set(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(request.headers()));
      HttpServerResponse response = request.response();
      CompletableFuture<Void> resetNow = reset;
      response.closeHandler(v -> resetNow.complete(null));
      String format = request.path().endsWith("/messages") ? "anthropic" : request.path().endsWith("/rag") ? "rag"
        : "openai";
      switch (behaviour.get()) {
        case STATUS_500 -> response.setStatusCode(500).end("{\"error\":{\"message\":\"internal\"}}");
        case STATUS_429 -> response.setStatusCode(429).end("{\"error\":{\"message\":\"rate limited\"}}");
        case STATUS_529 -> response.setStatusCode(529)
          .end("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
        case HANG -> response.setChunked(true).putHeader("Content-Type", "text/event-stream").write(": hold\n\n");
        case ERROR_EVENT -> stream(response, format, new String[] {"Half "}, 0, true);
        case SLOW -> stream(response, format, words(("word ").repeat(200)), 30, false);
        default -> stream(response, format, words(ANSWER), 0, false);
      }
    });
  }

  private static String[] words(String text) {
    return text.split("(?<= )");
  }

  private void stream(HttpServerResponse response, String format, String[] pieces, long interval, boolean error) {
    response.setChunked(true).putHeader("Content-Type", "text/event-stream");
    if ("anthropic".equals(format)) {
      event(response, "message_start", new JsonObject().put("type", "message_start").put("message",
        new JsonObject().put("model", MODEL).put("usage", new JsonObject().put("input_tokens", 42))));
      event(response, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", 0));
      event(response, "ping", new JsonObject().put("type", "ping"));
    }
    send(response, format, pieces, 0, interval, error);
  }

  private void send(HttpServerResponse response, String format, String[] pieces, int index, long interval,
                    boolean error) {
    if (response.closed()) {
      return;
    }
    if (index < pieces.length) {
      String piece = pieces[index];
      switch (format) {
        case "anthropic" -> event(response, "content_block_delta", new JsonObject().put("type", "content_block_delta")
          .put("index", 0).put("delta", new JsonObject().put("type", "text_delta").put("text", piece)));
        case "rag" -> data(response, new JsonObject().put("type", "chunk").put("content", piece).encode());
        default -> data(response, new JsonObject().put("model", MODEL).put("choices", new JsonArray()
          .add(new JsonObject().put("index", 0).put("delta", new JsonObject().put("content", piece)))).encode());
      }
      if (interval > 0) {
        vertx.setTimer(interval, t -> send(response, format, pieces, index + 1, interval, error));
      } else {
        send(response, format, pieces, index + 1, interval, error);
      }
      return;
    }
    if (error) {
      switch (format) {
        case "anthropic" -> event(response, "error", new JsonObject().put("type", "error").put("error",
          new JsonObject().put("type", "overloaded_error").put("message", "Overloaded")));
        case "rag" -> data(response, new JsonObject().put("type", "error").put("message", "index offline").encode());
        default -> data(response, new JsonObject().put("error", new JsonObject().put("message", "server overloaded"))
          .encode());
      }
      response.end();
      return;
    }
    switch (format) {
      case "anthropic" -> {
        event(response, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", 0));
        event(response, "message_delta", new JsonObject().put("type", "message_delta")
          .put("usage", new JsonObject().put("output_tokens", 7)));
        event(response, "message_stop", new JsonObject().put("type", "message_stop"));
      }
      case "rag" -> {
        data(response, new JsonObject().put("type", "completion").put("metadata", new JsonObject().put("model", MODEL)
          .put("usage", new JsonObject().put("inputTokens", 42).put("outputTokens", 7))).encode());
        data(response, "[DONE]");
      }
      default -> {
        data(response, new JsonObject().put("model", MODEL).put("choices", new JsonArray())
          .put("usage", new JsonObject().put("prompt_tokens", 42).put("completion_tokens", 7)).encode());
        data(response, "[DONE]");
      }
    }
    response.end();
  }

  private static void event(HttpServerResponse response, String name, JsonObject data) {
    response.write("event: " + name + "\ndata: " + data.encode() + "\n\n");
  }

  private static void data(HttpServerResponse response, String data) {
    response.write("data: " + data + "\n\n");
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
