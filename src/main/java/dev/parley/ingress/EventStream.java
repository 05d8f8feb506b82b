package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /api/conversations/{id}/events}: the room's events as Server-Sent Events, the same frames as over
 * WebSocket, each message with {@code id: <seq>} so that a reconnecting EventSource resumes by itself with
 * {@code Last-Event-ID}. Read-only: writing goes through the REST API. The response starts only once the
 * caller is known to be a member, so a refusal is an ordinary JSON error.
 */
final class EventStream extends Session {

  private static final Buffer PING = Buffer.buffer(": ping\n\n");
  private static final Buffer RETRY = Buffer.buffer("retry: 2000\n\n");

  private final RoutingContext ctx;
  private final HttpServerResponse response;
  private boolean started;

  EventStream(Realtime realtime, Context context, RoutingContext ctx, AuthenticatedUser user) {
    super(realtime, context);
    this.ctx = ctx;
    this.response = ctx.response();
    this.user = user;
  }

  void start(String conversationId, Long lastSeq) {
    response.closeHandler(v -> closed());
    response.exceptionHandler(failure -> closed());
    response.drainHandler(v -> drained());
    join(conversationId, lastSeq).onFailure(failure -> {
      if (!started) {
        closed();
        ctx.fail(failure);
      } else {
        close((short) 0, "join failed");
      }
    });
  }

  private void write(Buffer bytes) {
    if (closed || response.ended() || response.closed()) {
      return;
    }
    if (!started) {
      started = true;
      response.setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Accel-Buffering", "no");
      response.write(RETRY);
    }
    response.write(bytes);
    written(bytes.length());
  }

  @Override
  void writeEvent(RoomEvent event) {
    write(event.sse());
  }

  @Override
  void writeFrame(JsonObject frame) {
    write(new RoomEvent(frame.getString(Frames.TYPE), 0, frame.toBuffer()).sse());
  }

  /** A comment line: keeps proxies from closing an idle stream. */
  void heartbeat() {
    if (started) {
      write(PING);
    }
  }

  @Override
  boolean writeQueueFull() {
    return !response.closed() && response.writeQueueFull();
  }

  @Override
  void close(short code, String reason) {
    if (!response.ended() && !response.closed()) {
      if (started) {
        response.end();
      } else {
        response.reset();
      }
    }
    closed();
  }
}
