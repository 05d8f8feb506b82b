package dev.parley.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A blocking Server-Sent Events reader for tests: one event at a time, comments skipped. */
public final class Sse implements AutoCloseable {

  /** One event: its {@code id:} (null when it has none) and its {@code data:} as JSON. */
  public record Event(String id, JsonObject json) {
  }

  private final Vertx vertx;
  private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final StringBuilder pending = new StringBuilder();
  private final java.util.concurrent.CompletableFuture<Void> ended = new java.util.concurrent.CompletableFuture<>();

  private Sse(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Opens the stream with a bearer token and, unless null, a {@code Last-Event-ID}. */
  public static Sse open(int port, String path, String token, String lastEventId) {
    Vertx vertx = Vertx.vertx();
    Sse sse = new Sse(vertx);
    HttpClient client = vertx.createHttpClient();
    RequestOptions options = new RequestOptions().setHost("127.0.0.1").setPort(port).setURI(path)
      .setMethod(HttpMethod.GET).putHeader("Authorization", "Bearer " + token).putHeader("Accept", "text/event-stream");
    if (lastEventId != null) {
      options.putHeader("Last-Event-ID", lastEventId);
    }
    // The handler is installed on the event loop as the response arrives, so no chunk can come before it.
    HttpClientResponse response = client.request(options).compose(request -> request.send())
      .map(arrived -> arrived.handler(chunk -> sse.feed(chunk.toString()))
        .endHandler(v -> sse.ended.complete(null))
        .exceptionHandler(failure -> sse.ended.complete(null))).await();
    if (response.statusCode() != 200) {
      vertx.close();
      throw new AssertionError("event stream refused: " + response.statusCode());
    }
    return sse;
  }

  private synchronized void feed(String text) {
    pending.append(text);
    int end;
    while ((end = pending.indexOf("\n\n")) >= 0) {
      String block = pending.substring(0, end);
      pending.delete(0, end + 2);
      String id = null;
      StringBuilder data = new StringBuilder();
      for (String line : block.split("\n")) {
        if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          data.append(line.substring(6));
        }
      }
      if (data.length() > 0) {
        events.add(new Event(id, new JsonObject(data.toString())));
      }
    }
  }

  public Event next() throws InterruptedException {
    Event event = events.poll(10, TimeUnit.SECONDS);
    if (event == null) {
      throw new AssertionError("no event within 10 s");
    }
    return event;
  }

  /** Waits until the server ends the stream. */
  public void awaitEnd() throws Exception {
    ended.get(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
