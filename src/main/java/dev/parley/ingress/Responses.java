package dev.parley.ingress;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes successful JSON answers; a failed future goes to the failure handler. */
final class Responses {

  private Responses() {
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
  }

  static void reply(RoutingContext ctx, int status, Future<JsonObject> result) {
    result.onComplete(done -> {
      if (done.succeeded()) {
        json(ctx, status, done.result());
      } else {
        ctx.fail(done.cause());
      }
    });
  }

  static void noContent(RoutingContext ctx, Future<?> result) {
    result.onComplete(done -> {
      if (done.succeeded()) {
        ctx.response().setStatusCode(204).end();
      } else {
        ctx.fail(done.cause());
      }
    });
  }
}
