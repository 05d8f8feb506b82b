package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.auth.Tokens;
import dev.parley.bus.ParleyException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/** Requires {@code Authorization: Bearer <jwt>}; puts the verified user in the context. */
final class Authenticator implements Handler<RoutingContext> {

  private static final String USER = "parley.user";
  private static final String BEARER = "Bearer ";

  private final Tokens tokens;

  Authenticator(Tokens tokens) {
    this.tokens = tokens;
  }

  static AuthenticatedUser user(RoutingContext ctx) {
    return ctx.get(USER);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null) {
      ctx.fail(ParleyException.unauthorized("missing Authorization header"));
      return;
    }
    if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length()) || header.length() == BEARER.length()) {
      ctx.fail(ParleyException.unauthorized("Authorization header must be 'Bearer <token>'"));
      return;
    }
    tokens.verify(header.substring(BEARER.length()).trim()).onComplete(verified -> {
      if (verified.succeeded()) {
        ctx.put(USER, verified.result());
        ctx.next();
      } else {
        ctx.fail(verified.cause());
      }
    });
  }
}
