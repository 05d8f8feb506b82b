package dev.parley.ingress;

import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one failure handler of the HTTP API: every error leaves as {@code {"error":{"code","message"}}} with the
 * status of its code. Unexpected failures are logged with their detail and reach the client as INTERNAL.
 */
final class Failures {

  private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

  private Failures() {
  }

  static void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ParleyException parley) {
      send(ctx, parley);
      return;
    }
    int status = failure instanceof HttpException http ? http.getStatusCode() : ctx.statusCode();
    // A vertx-web handler that refuses a request (CORS, for one) fails with a 4xx status and an exception of
    // its own: the status is the meaning, not the exception.
    boolean refusedByHandler = status >= 400 && status < 500;
    if (failure != null && !(failure instanceof HttpException) && !refusedByHandler) {
      ParleyException mapped = ParleyException.from(failure);
      if (mapped.code() == ErrorCode.INTERNAL) {
        LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
      }
      send(ctx, mapped);
      return;
    }
    switch (status) {
      case 400 -> send(ctx, 400, ErrorCode.INVALID_INPUT, "bad request");
      case 401 -> send(ctx, 401, ErrorCode.UNAUTHORIZED, "authentication required");
      case 403 -> send(ctx, 403, ErrorCode.FORBIDDEN, "forbidden");
      case 404 -> notFound(ctx);
      case 405 -> send(ctx, 405, ErrorCode.INVALID_INPUT, "method not allowed");
      case 413 -> send(ctx, 413, ErrorCode.TOO_LARGE, "request body is too large");
      default -> {
        LOG.error("{} {} failed with status {}", ctx.request().method(), ctx.request().path(), status);
        send(ctx, 500, ErrorCode.INTERNAL, "internal error");
      }
    }
  }

  static void notFound(RoutingContext ctx) {
    send(ctx, 404, ErrorCode.NOT_FOUND, "no such resource");
  }

  /** A Parley failure with its status; RATE_LIMIT also says when to retry, in the body and {@code Retry-After}. */
  private static void send(RoutingContext ctx, ParleyException failure) {
    if (failure.retryAfterMs() != null && !ctx.response().headWritten()) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, (failure.retryAfterMs() + 999) / 1000)));
    }
    send(ctx, failure.code().httpStatus, failure.code(), failure.getMessage(), failure.retryAfterMs());
  }

  static void send(RoutingContext ctx, int status, ErrorCode code, String message) {
    send(ctx, status, code, message, null);
  }

  private static void send(RoutingContext ctx, int status, ErrorCode code, String message, Long retryAfterMs) {
    HttpServerResponse response = ctx.response();
    if (response.headWritten()) {
      // Too late for an error body: end the exchange so the client does not wait forever.
      response.reset();
      return;
    }
    JsonObject error = new JsonObject().put("code", code.name()).put("message", message);
    if (retryAfterMs != null) {
      error.put("retryAfterMs", retryAfterMs);
    }
    JsonObject body = new JsonObject().put("error", error);
    response.setStatusCode(status)
      .setStatusMessage(HttpResponseStatus.valueOf(status).reasonPhrase())
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(body.toBuffer());
  }
}
