package dev.parley.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The model of the big-room scenario: an OpenAI-compatible {@code POST /v1/chat/completions} on port 0 that streams
 * each answer as {@code pieces} pieces at {@code perSecond}, each piece {@code c:<System.nanoTime> } written when it
 * is sent. The generator shares this process's clock, so a client that receives a chunk knows how long the piece
 * took from the model to its screen.
 */
final class StreamingModel implements AutoCloseable {

  static final String MARK = "c:";

  private final HttpServer server;
  private final Vertx vertx;
  private final int pieces;
  private final long intervalMs;

  StreamingModel(Vertx vertx, int pieces, int perSecond) {
    this.vertx = vertx;
    this.pieces = pieces;
    this.intervalMs = Math.max(1, 1_000 / perSecond);
    this.server = vertx.createHttpServer()
      .requestHandler(request -> request.body().onSuccess(body -> stream(request.response(), 0)))
      .listen(0, "127.0.0.1").await();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/v1";
  }

  private void stream(HttpServerResponse response, int sent) {
    if (response.closed()) {
      return;
    }
    if (sent == 0) {
      response.setChunked(true).putHeader("Content-Type", "text/event-stream");
    }
    if (sent < pieces) {
      data(response, new JsonObject().put("model", "bench-model").put("choices", new JsonArray().add(new JsonObject()
        .put("index", 0).put("delta", new JsonObject().put("content", MARK + System.nanoTime() + " ")))).encode());
      vertx.setTimer(intervalMs, t -> stream(response, sent + 1));
      return;
    }
    data(response, new JsonObject().put("model", "bench-model").put("choices", new JsonArray())
      .put("usage", new JsonObject().put("prompt_tokens", 50).put("completion_tokens", pieces)).encode());
    data(response, "[DONE]");
    response.end();
  }

  private static void data(HttpServerResponse response, String data) {
    response.write("data: " + data + "\n\n");
  }

  @Override
  public void close() {
    server.close().await();
  }
}
