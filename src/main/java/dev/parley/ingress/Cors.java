package dev.parley.ingress;

import dev.parley.bus.ParleyException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;

import java.util.List;
import java.util.Set;

/**
 * Cross-origin access to the API. A request from the node's own origin (the web client it serves) and one
 * with no {@code Origin} (curl, servers) pass untouched; a listed origin (or any, with {@code *}) gets the
 * CORS headers; any other origin is FORBIDDEN.
 */
final class Cors implements Handler<RoutingContext> {

  private final List<String> origins;
  private final CorsHandler headers;

  Cors(List<String> origins) {
    this.origins = List.copyOf(origins);
    CorsHandler cors = origins.contains("*") ? CorsHandler.create() : CorsHandler.create().addOrigins(origins);
    this.headers = cors
      .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE))
      .allowedHeaders(Set.of(HttpHeaders.AUTHORIZATION.toString(), HttpHeaders.CONTENT_TYPE.toString()))
      .maxAgeSeconds(600);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
    if (origin == null || sameOrigin(ctx.request(), origin)) {
      ctx.next();
    } else if (origins.contains("*") || origins.contains(origin)) {
      headers.handle(ctx);
    } else {
      ctx.fail(ParleyException.forbidden("origin not allowed"));
    }
  }

  /** Whether {@code origin} is the node's own, as the request reached it (the web client it serves). */
  static boolean sameOrigin(HttpServerRequest request, String origin) {
    HostAndPort authority = request.authority();
    if (authority == null) {
      return false;
    }
    String own = request.scheme() + "://" + authority.host() + (authority.port() > 0 ? ":" + authority.port() : "");
    return own.equalsIgnoreCase(origin);
  }
}
