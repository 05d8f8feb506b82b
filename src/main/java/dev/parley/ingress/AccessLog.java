package dev.parley.ingress;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.regex.Pattern;

/**
 * One line per HTTP request on the logger {@code dev.parley.access} (method, target, status, duration, client),
 * written when the response ends, or when a WebSocket upgrade is accepted. Tokens are redacted from the
 * target: {@code ?token=…} becomes {@code ?token=***}, and no header is ever logged. Silence it with
 * {@code <logger name="dev.parley.access" level="WARN"/>}.
 */
final class AccessLog {

  private static final Logger LOG = LoggerFactory.getLogger("dev.parley.access");
  private static final Pattern TOKEN = Pattern.compile("(?i)([?&](?:token|access_token)=)[^&#]*");
  private static final String LOGGED = "parley.access.logged";

  private AccessLog() {
  }

  static void handle(RoutingContext ctx) {
    if (LOG.isInfoEnabled()) {
      long started = System.nanoTime();
      ctx.addEndHandler(done -> {
        if (ctx.get(LOGGED) == null) {
          line(ctx.request(), ctx.response().getStatusCode(), started);
        }
      });
    }
    ctx.next();
  }

  /**
   * The line of an accepted WebSocket upgrade, written at once: such a response never ends as others do (only
   * its connection closes, perhaps hours later, which then writes no second line).
   */
  static void upgraded(RoutingContext ctx, long started) {
    if (LOG.isInfoEnabled()) {
      ctx.put(LOGGED, true);
      line(ctx.request(), 101, started);
    }
  }

  static String redacted(String uri) {
    return uri == null ? "" : TOKEN.matcher(uri).replaceAll("$1***");
  }

  private static void line(HttpServerRequest request, int status, long started) {
    LOG.info("{} {} {} {} ms {}", request.method(), redacted(request.uri()), status,
      (System.nanoTime() - started) / 1_000_000, request.remoteAddress());
  }
}
