package dev.parley.ingress;

import dev.parley.auth.Passwords;
import dev.parley.auth.Tokens;
import dev.parley.bus.AssistantClient;
import dev.parley.bus.BusClient;
import dev.parley.bus.PresenceClient;
import dev.parley.bus.StoreClient;
import dev.parley.config.ConfigException;
import dev.parley.config.ParleyConfig;
import dev.parley.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CSPHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;

import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The HTTP face of a node: the REST API, health and readiness. One instance per event loop shares the port.
 * It holds no state of its own: everything goes over the event bus to the store and presence services.
 */
public final class IngressVerticle extends VerticleBase {

  private static final long CHECK_TIMEOUT_MS = 3_000;

  /** The Prometheus text exposition format, as {@code PrometheusMeterRegistry.scrape()} writes it. */
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final ParleyConfig config;
  private final Passwords passwords;
  private final IntSupplier clusterMembers;
  private final AtomicInteger boundPort;
  private final Node node;
  private HttpServer server;
  private Realtime realtime;

  /**
   * What the ingress instances of one node share: the room fan-out (one consumer per room per node) and its
   * counters. Build it once per node, before deploying the instances.
   */
  public static final class Node {
    final RoomHub hub;
    final Meters meters;
    final AtomicLong slowConsumers = new AtomicLong();
    final StuckMessages stuck;
    /** Set when the node starts its graceful stop: readiness fails from then on. */
    final java.util.concurrent.atomic.AtomicBoolean draining = new java.util.concurrent.atomic.AtomicBoolean();

    public Node(io.vertx.core.Vertx vertx, ParleyConfig config, Meters meters) {
      this.meters = meters;
      this.stuck = new StuckMessages(meters);
      this.hub = new RoomHub(vertx, new StoreClient(vertx, config.hasRole(ParleyConfig.ROLE_STORE), config.busTimeoutMs()),
        meters);
    }

    /** How many rooms have local subscribers on this node. */
    public Future<Integer> rooms() {
      return hub.roomCount();
    }

    /**
     * The cluster's membership changed (a node joined, left, died, or this one merged back): a room event published
     * during the change may have reached no one, so every room with local subscribers reads what it missed from the
     * store, once the change has settled.
     */
    public void clusterChanged() {
      hub.catchUpLater();
    }

    /** How many sockets and streams were closed for reading too slowly. */
    public long slowConsumersClosed() {
      return slowConsumers.get();
    }
  }

  /**
   * @param clusterMembers the members of the cluster this node sees, 0 when it is not a live member; null when not
   *                       clustered
   * @param boundPort     receives the port actually bound (the configured one, or the one picked for port 0)
   * @param node          shared by the node's instances
   */
  public IngressVerticle(ParleyConfig config, Passwords passwords, IntSupplier clusterMembers,
                         AtomicInteger boundPort, Node node) {
    this.config = config;
    this.passwords = passwords;
    this.clusterMembers = clusterMembers;
    this.boundPort = boundPort;
    this.node = node;
  }

  @Override
  public Future<?> start() {
    long timeout = config.busTimeoutMs();
    StoreClient store = new StoreClient(vertx, config.hasRole(ParleyConfig.ROLE_STORE), timeout);
    PresenceClient presence = new PresenceClient(vertx, config.hasRole(ParleyConfig.ROLE_PRESENCE), timeout,
      config.realtime().rateLimitFailOpen());
    Tokens tokens = new Tokens(vertx, config.auth(), config.auth().jwtSecret());
    Authenticator authenticated = new Authenticator(tokens);

    Router router = Router.router(vertx);
    if (config.http().trustForwarded()) {
      router.allowForward(io.vertx.ext.web.AllowForwardHeaders.X_FORWARD);
    }
    router.route().handler(AccessLog::handle);
    router.get("/health").handler(liveness());
    router.get("/ready").handler(readiness(store, presence));
    router.get("/metrics").handler(this::metrics);
    if (!config.http().corsOrigins().isEmpty()) {
      router.route("/api/*").handler(new Cors(config.http().corsOrigins()));
    }
    AssistantClient assistantClient = new AssistantClient(vertx, timeout);
    AssistantTrigger assistant = new AssistantTrigger(assistantClient);
    realtime = new Realtime(vertx, context, config, node.hub, store, presence, tokens, assistant, node.slowConsumers,
      node.meters, node.stuck);
    Auditor audit = new Auditor(store);
    DocumentRoutes documents = new DocumentRoutes(vertx, store, config, audit);
    documents.mountBodyHandler(router, authenticated);
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(config.http().maxBodyBytes()));
    realtime.mount(router);
    new AuthRoutes(vertx, store, passwords, tokens, audit).mount(router, authenticated);
    router.get("/api/admin/audit").handler(authenticated).handler(ctx -> {
      Long limit = Inputs.queryLong(ctx, "limit", 1, 200);
      Responses.reply(ctx, 200, store.auditLog(Authenticator.user(ctx).id(), Inputs.queryLong(ctx, "before", 1,
        Long.MAX_VALUE), limit == null ? 100 : limit.intValue()));
    });
    new ConversationRoutes(store, presence, assistant, node.meters, audit, config.maxMessageChars(),
      config.realtime().maxMessageBytes())
      .mount(router, authenticated);
    documents.mount(router, authenticated);
    new ChatRoutes(vertx, context, node.hub, store, presence, assistantClient, config.maxMessageChars(),
      config.realtime().maxMessageBytes(), config.assistant().timeoutMs(), config.assistant().dailyTokens())
      .mount(router, authenticated);
    // The web client: static files from the jar, with a policy that lets no script but its own run.
    router.route("/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(CSPHandler.create().addDirective("default-src", "'self'")
      .addDirective("img-src", "'self' data:").addDirective("object-src", "'none'")
      .addDirective("base-uri", "'none'").addDirective("frame-ancestors", "'none'"));
    router.route("/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
      .handler(StaticHandler.create("webroot").setMaxAgeSeconds(300));
    router.route().failureHandler(Failures::handle);
    router.errorHandler(404, Failures::notFound);
    router.errorHandler(405, Failures::handle);

    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(config.http().host())
        .setPort(config.http().port())
        .setCompressionSupported(true)
        // Every response is written on its request's event loop (the fan-out hands each socket's writes to its
        // own loop), so a connection needs no queue for writes from other threads: strict mode drops it, 4.7 KB
        // (a chunk of 1,024 slots) for every socket held open, since Vert.x keeps the upgraded request's
        // connection for the WebSocket's lifetime. The contract that comes with it: a response written from any
        // other thread throws IllegalStateException and the request is left hanging.
        .setStrictThreadMode(true)
        // Messages over the limit are closed with 1009 (ChatSocket); a single frame 16 times over it is not even
        // read: the connection is dropped at once.
        .setMaxWebSocketFrameSize(config.realtime().maxFrameBytes() * 16)
        .setMaxWebSocketMessageSize(config.realtime().maxFrameBytes())
        // Compressed sockets would each deflate every event again (no more "encode once per node"), and
        // inflating what clients send is a door to compression bombs.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false))
      .requestHandler(router);
    return server.listen()
      .onSuccess(bound -> {
        boundPort.set(bound.actualPort());
        realtime.start();
      })
      .recover(failure -> Future.failedFuture(new ConfigException(
        failure instanceof UnknownHostException ? "HOST" : "PORT",
        "cannot listen on " + config.http().host() + ":" + config.http().port() + ": " + failure.getMessage())));
  }

  /**
   * Sockets first: each finishes its messages in flight, is closed with 1012 and leaves its rooms; then the server
   * stops accepting and lets in-flight requests finish within the grace period.
   */
  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    node.draining.set(true);
    return realtime.shutdown(config.shutdownGraceMs())
      .eventually(() -> server.shutdown(config.shutdownGraceMs(), TimeUnit.MILLISECONDS));
  }

  private HealthCheckHandler liveness() {
    HealthChecks checks = HealthChecks.create(vertx)
      .register("node", promise -> promise.complete(Status.OK(new JsonObject().put("node", config.nodeName()))));
    return HealthCheckHandler.createWithHealthChecks(checks);
  }

  /**
   * Ready when the node is not draining, PostgreSQL and Redis answer through their services and, when clustered,
   * the cluster is live. Draining (SIGTERM) turns it 503 first, before any socket is closed, so a load balancer
   * stops sending new clients here while the old ones finish.
   */
  private HealthCheckHandler readiness(StoreClient store, BusClient presence) {
    HealthChecks checks = HealthChecks.create(vertx)
      .register("draining", promise -> promise.complete(node.draining.get()
        ? Status.KO(new JsonObject().put("reason", "the node is shutting down")) : Status.OK()))
      .register("postgresql", CHECK_TIMEOUT_MS, promise -> complete(promise, store.ping()))
      .register("redis", CHECK_TIMEOUT_MS, promise -> complete(promise, presence.ping()));
    if (clusterMembers != null) {
      checks.register("cluster", CHECK_TIMEOUT_MS, promise -> {
        int members = clusterMembers.getAsInt();
        promise.complete(members > 0
          ? Status.OK(new JsonObject().put("members", members))
          : Status.KO(new JsonObject().put("reason", "not a live cluster member")));
      });
    }
    return HealthCheckHandler.createWithHealthChecks(checks);
  }

  /**
   * A scrape walks every meter, tens of milliseconds on a busy node: it runs on a worker thread, so no socket of
   * this event loop waits for Prometheus.
   */
  private void metrics(RoutingContext ctx) {
    vertx.executeBlocking(() -> node.meters.prometheus().scrape(), false)
      .onSuccess(text -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS_TEXT)
        .end(text))
      .onFailure(ctx::fail);
  }

  private static void complete(Promise<Status> promise, Future<Void> check) {
    check.onComplete(done -> promise.complete(done.succeeded()
      ? Status.OK()
      : Status.KO(new JsonObject().put("reason", done.cause().getMessage()))));
  }
}
