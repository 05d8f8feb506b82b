package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.auth.Tokens;
import dev.parley.bus.ParleyException;
import dev.parley.bus.PresenceApi;
import dev.parley.bus.PresenceClient;
import dev.parley.bus.StoreClient;
import dev.parley.config.ParleyConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The real-time side of one ingress instance: the {@code /ws/chat} endpoints and the SSE stream, the sessions
 * of this event loop, their heartbeat, the presence refresh, and their part in a graceful shutdown. The room
 * fan-out itself is node-wide ({@link RoomHub}).
 *
 * <p>Authentication and the origin check happen before the upgrade: a bad token is a 401 and a foreign origin
 * a 403, as JSON, and no socket is opened. A socket that brought no token must send an {@code auth} frame in
 * time. The token may come in the query ({@code ?token=}): no log line of Parley ever contains a query string.
 */
final class Realtime {

  private static final Logger LOG = LoggerFactory.getLogger(Realtime.class);
  static final String WS_PATH = "/ws/chat";
  private static final String BEARER = "Bearer ";

  private final Vertx vertx;
  /** The ingress instance's own context: sessions group by it in the fan-out (one task per event loop). */
  private final Context context;
  private final ParleyConfig node;
  private final RoomHub hub;
  private final StoreClient store;
  private final PresenceClient presence;
  private final Tokens tokens;
  private final AssistantTrigger assistant;
  private final AtomicLong slowConsumers;
  private final StuckMessages stuck;
  private final dev.parley.metrics.Meters meters;
  private final Set<Session> sessions = new LinkedHashSet<>();
  /** The same sessions by refresh slice: a refresh visits only its own, not every connection of the instance. */
  private final List<Set<Session>> slices = new ArrayList<>();
  /** How often the next slice is refreshed: every connection once a third of the TTL. */
  private final long refreshEveryMs;
  private long heartbeatTimer = -1;
  /** How often a slice of the connections is refreshed in presence. */
  private static final long REFRESH_SLICE_MS = 250;
  private long refreshTimer = -1;
  /** This event loop's share of MAX_MESSAGES_IN_FLIGHT. */
  private final MessagePlaces places;
  private boolean draining;

  Realtime(Vertx vertx, Context context, ParleyConfig node, RoomHub hub, StoreClient store, PresenceClient presence,
           Tokens tokens, AssistantTrigger assistant, AtomicLong slowConsumers, dev.parley.metrics.Meters meters,
           StuckMessages stuck) {
    this.meters = meters;
    this.stuck = stuck;
    this.assistant = assistant;
    this.vertx = vertx;
    this.context = context;
    this.node = node;
    this.hub = hub;
    this.store = store;
    this.presence = presence;
    this.tokens = tokens;
    this.slowConsumers = slowConsumers;
    // Every connection is refreshed once a third of the TTL, but not all at once: a slice every quarter of a
    // second. Thousands of connections in one script call would hold Redis, and with it every rate check (so
    // every message), for tens of milliseconds.
    long period = Math.max(200, config().presenceTtlMs() / 3);
    for (long i = Math.max(1, period / REFRESH_SLICE_MS); i > 0; i--) {
      slices.add(new LinkedHashSet<>());
    }
    refreshEveryMs = period / slices.size();
    places = new MessagePlaces(Math.max(1, config().maxMessagesInFlight() / node.http().instances()));
  }

  void mount(Router router) {
    router.get(WS_PATH).handler(ctx -> upgrade(ctx, null));
    router.get(WS_PATH + "/:conversationId").handler(ctx -> upgrade(ctx, ctx.pathParam("conversationId")));
    router.get("/api/conversations/:conversationId/events").handler(this::events);
  }

  /** Starts the heartbeat and the presence refresh of this instance's sessions. */
  void start() {
    long ping = config().pingIntervalMs();
    heartbeatTimer = vertx.setPeriodic(ping, ping, t -> heartbeat());
    long[] tick = {0};
    refreshTimer = vertx.setPeriodic(refreshEveryMs, refreshEveryMs,
      t -> refreshPresence(slices.get((int) (tick[0]++ % slices.size()))));
  }

  ParleyConfig.Realtime config() {
    return node.realtime();
  }

  int maxMessageChars() {
    return node.maxMessageChars();
  }

  String nodeName() {
    return node.nodeName();
  }

  Vertx vertx() {
    return vertx;
  }

  RoomHub hub() {
    return hub;
  }

  StoreClient store() {
    return store;
  }

  PresenceClient presence() {
    return presence;
  }

  Tokens tokens() {
    return tokens;
  }

  AssistantTrigger assistant() {
    return assistant;
  }

  void forget(Session session) {
    if (sessions.remove(session)) {
      sliceOf(session).remove(session);
      (session instanceof ChatSocket ? meters.webSockets : meters.eventStreams).decrementAndGet();
    }
  }

  private void track(Session session) {
    sessions.add(session);
    sliceOf(session).add(session);
    (session instanceof ChatSocket ? meters.webSockets : meters.eventStreams).incrementAndGet();
  }

  private Set<Session> sliceOf(Session session) {
    return slices.get(Math.floorMod(session.connectionId.hashCode(), slices.size()));
  }

  dev.parley.metrics.Meters meters() {
    return meters;
  }

  MessagePlaces places() {
    return places;
  }

  StuckMessages stuck() {
    return stuck;
  }

  void slowConsumerClosed() {
    slowConsumers.incrementAndGet();
    meters.slowConsumers.increment();
  }

  void logInternal(Throwable failure) {
    LOG.error("real-time request failed", failure);
  }

  void logDebug(String message) {
    LOG.debug(message);
  }

  private void upgrade(RoutingContext ctx, String conversationId) {
    HttpServerRequest request = ctx.request();
    if (!"websocket".equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE))) {
      ctx.fail(ParleyException.invalid(WS_PATH + " speaks WebSocket: send an upgrade request"));
      return;
    }
    if (draining) {
      ctx.fail(new ParleyException(dev.parley.bus.ErrorCode.UNAVAILABLE, "this node is shutting down"));
      return;
    }
    if (!originAllowed(request)) {
      ctx.fail(ParleyException.forbidden("origin not allowed"));
      return;
    }
    Long lastSeq;
    try {
      lastSeq = Inputs.queryLong(ctx, Frames.LAST_SEQ, 0, Long.MAX_VALUE);
    } catch (ParleyException e) {
      ctx.fail(e);
      return;
    }
    String token = token(request);
    long started = System.nanoTime();
    Future<AuthenticatedUser> user = token == null ? Future.succeededFuture() : tokens.verify(token);
    user.onComplete(verified -> {
      if (verified.failed()) {
        ctx.fail(verified.cause());
        return;
      }
      request.toWebSocket().onComplete(upgraded -> {
        if (upgraded.failed()) {
          LOG.debug("WebSocket upgrade failed: {}", upgraded.cause().getMessage());
          return;
        }
        AccessLog.upgraded(ctx, started);
        ChatSocket socket = new ChatSocket(this, context, upgraded.result(), verified.result(), conversationId, lastSeq);
        track(socket);
        socket.start();
        socket.joinInitialRoom();
      });
    });
  }

  /** {@code ?token=} or {@code Authorization: Bearer}; null when neither is given. */
  private static String token(HttpServerRequest request) {
    String query = request.getParam(Frames.TOKEN);
    if (query != null && !query.isBlank()) {
      return query.trim();
    }
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return header.substring(BEARER.length()).trim();
    }
    return null;
  }

  /** No allow-list: any origin. Otherwise a browser's origin must be listed, or be this node's own. */
  private boolean originAllowed(HttpServerRequest request) {
    List<String> allowed = config().wsOrigins();
    String origin = request.getHeader(HttpHeaders.ORIGIN);
    return allowed.isEmpty() || origin == null || allowed.contains("*") || allowed.contains(origin)
      || Cors.sameOrigin(request, origin);
  }

  private void events(RoutingContext ctx) {
    if (draining) {
      ctx.fail(new ParleyException(dev.parley.bus.ErrorCode.UNAVAILABLE, "this node is shutting down"));
      return;
    }
    String token = token(ctx.request());
    Long lastSeq;
    try {
      lastSeq = lastEventId(ctx);
    } catch (ParleyException e) {
      ctx.fail(e);
      return;
    }
    tokens.verify(token).onComplete(verified -> {
      if (verified.failed()) {
        ctx.fail(verified.cause());
        return;
      }
      EventStream stream = new EventStream(this, context, ctx, verified.result());
      track(stream);
      stream.start(ctx.pathParam("conversationId"), lastSeq);
    });
  }

  /** {@code Last-Event-ID} (sent by a reconnecting EventSource), else {@code ?lastSeq=}. */
  private static Long lastEventId(RoutingContext ctx) {
    String header = ctx.request().getHeader("Last-Event-ID");
    if (header != null && !header.isBlank()) {
      try {
        long seq = Long.parseLong(header.trim());
        if (seq >= 0) {
          return seq;
        }
      } catch (NumberFormatException ignored) {
        // falls through
      }
      throw ParleyException.invalid("Last-Event-ID must be a seq, a whole number of at least 0");
    }
    return Inputs.queryLong(ctx, Frames.LAST_SEQ, 0, Long.MAX_VALUE);
  }

  private void heartbeat() {
    long now = System.currentTimeMillis();
    for (Session session : new ArrayList<>(sessions)) {
      if (session instanceof ChatSocket socket) {
        socket.heartbeat(now);
      } else if (session instanceof EventStream stream) {
        stream.heartbeat();
      }
    }
  }

  /** This instance's heartbeat in Redis: every joined room of the sessions in this slice is still here. */
  private void refreshPresence(Set<Session> slice) {
    JsonArray connections = new JsonArray();
    for (Session session : slice) {
      for (Session.Joined joined : session.rooms.values()) {
        if (joined.attached) {
          connections.add(new JsonObject().put(PresenceApi.CONVERSATION_ID, joined.id)
            .put(PresenceApi.CONNECTION_ID, session.connectionId).put(PresenceApi.USER, session.userJson()));
        }
      }
    }
    if (!connections.isEmpty()) {
      presence.refresh(connections).onFailure(failure -> LOG.debug("presence refresh failed: {}", failure.getMessage()));
    }
  }

  /**
   * A graceful stop: no new sockets; each socket stops reading, its messages in flight get their {@code ack},
   * then it is closed with 1012 (reconnect elsewhere) and leaves its rooms, presence included.
   */
  Future<Void> shutdown(long graceMs) {
    draining = true;
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(refreshTimer);
    List<Future<Void>> done = new ArrayList<>();
    for (Session session : new ArrayList<>(sessions)) {
      Future<Void> drained = session instanceof ChatSocket socket ? socket.drain() : Future.succeededFuture();
      // Bounded by a timer of this event loop, so the close below runs here too (Future.timeout would not).
      Promise<Void> ready = Promise.promise();
      long timer = vertx.setTimer(Math.max(1, graceMs), t -> ready.tryComplete());
      drained.onComplete(d -> {
        vertx.cancelTimer(timer);
        ready.tryComplete();
      });
      done.add(ready.future().compose(v -> {
        session.close(Frames.CLOSE_RESTART, "node shutting down: reconnect");
        return session.cleanedUp();
      }));
    }
    return Future.join(done).mapEmpty();
  }
}
