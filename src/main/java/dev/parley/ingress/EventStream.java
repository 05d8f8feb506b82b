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
  private long expiryTimer = -1;
  private Long resumeFrom;

  EventStream(Realtime realtime, Context context, RoutingContext ctx, AuthenticatedUser user) {
    super(realtime, context);
    this.ctx = ctx;
    this.response = ctx.response();
    this.user = user;
  }

  void start(String conversationId, Long lastSeq) {
    resumeFrom = lastSeq;
    response.closeHandler(v -> close((short) 0, "client gone"));
    response.exceptionHandler(failure -> close((short) 0, "client gone"));
    response.drainHandler(v -> drained());
    long untilExpiry = Math.max(1, user.expiresAt() * 1000 - System.currentTimeMillis());
    expiryTimer = realtime.vertx().setTimer(untilExpiry, t -> {
      expiryTimer = -1;
      close(Frames.CLOSE_TOKEN_EXPIRED, "token expired");
    });
    join(conversationId, lastSeq).onFailure(failure -> {
      if (!started) {
        cancelExpiry();
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
        .putHeader("X-Accel-Buffering", "no")
        // Compressing would hold events back in the deflater; an event stream is sent as it is.
        .putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY);
      response.write(RETRY);
    }
    response.write(bytes);
    written(bytes.length());
  }

  @Override
  void writeEvent(RoomEvent event) {
    write(event.sse());
  }

  /**
   * {@code joined} and {@code resumed} carry an {@code id:} too (the seq the stream is at), so an EventSource that
   * drops before any message still resumes from there.
   */
  @Override
  void writeFrame(JsonObject frame) {
    Long at = switch (frame.getString(Frames.TYPE)) {
      // Resuming: what the client had, since the replay that follows may be cut short.
      case Frames.JOINED -> resumeFrom != null ? resumeFrom : frame.getLong(Frames.LAST_SEQ, 0L);
      case Frames.RESUMED -> frame.getLong(Frames.TO_SEQ, 0L);
      default -> null;
    };
    write(RoomEvent.sse(frame.toBuffer(), at));
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
  protected void lostRoom() {
    close((short) 0, "left the room");
  }

  /**
   * Ends the stream. A stream that reads too slowly is cut at once, since its end would wait behind all it has
   * not read; otherwise the response ends and an EventSource reconnects by itself.
   */
  private void cancelExpiry() {
    if (expiryTimer >= 0) {
      realtime.vertx().cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
  }

  @Override
  void close(short code, String reason) {
    cancelExpiry();
    if (!response.ended() && !response.closed()) {
      if (started && code != Frames.CLOSE_SLOW_CONSUMER) {
        response.end();
      } else {
        response.reset();
      }
    }
    closed();
  }
}
