package dev.parley;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.internal.VertxInternal;
import dev.parley.assistant.AssistantVerticle;
import dev.parley.auth.JwtSecret;
import dev.parley.auth.Passwords;
import dev.parley.config.ClusterSetup;
import dev.parley.config.ConfigException;
import dev.parley.config.ConfigLoader;
import dev.parley.config.EmbeddedPostgresServer;
import dev.parley.config.EmbeddedRedisServer;
import dev.parley.config.ParleyConfig;
import dev.parley.ingress.IngressVerticle;
import dev.parley.metrics.Meters;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import dev.parley.presence.PresenceVerticle;
import dev.parley.store.StoreVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * One Parley node: reads the configuration, starts embedded PostgreSQL and Redis when no URL is given, joins
 * the cluster when asked, and deploys the verticles of its roles, the store first and the HTTP ingress last,
 * so a node accepts requests only once everything behind them is ready. {@link #stop()} undoes it all in the
 * reverse order; {@link #main} wires it to SIGTERM.
 */
public final class Parley {

  private static final Logger LOG = LoggerFactory.getLogger(Parley.class);

  private final Vertx vertx;
  private final ParleyConfig config;
  private final List<AutoCloseable> embedded;
  private final List<String> ingressDeployments;
  private final Thread hook;
  private final AtomicInteger httpPort;
  private final IngressVerticle.Node ingress;
  private Future<Void> stopping;

  private Parley(Vertx vertx, ParleyConfig config, List<AutoCloseable> embedded, List<String> ingressDeployments,
                 Thread hook, AtomicInteger httpPort, IngressVerticle.Node ingress) {
    this.httpPort = httpPort;
    this.ingress = ingress;
    this.vertx = vertx;
    this.config = config;
    this.embedded = embedded;
    this.ingressDeployments = ingressDeployments;
    this.hook = hook;
  }

  public static void main(String[] args) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    System.setProperty("hazelcast.phone.home.enabled", "false");
    try {
      start(new JsonObject()).toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ConfigException) {
        LOG.error("Parley did not start: {}", cause.getMessage());
      } else {
        LOG.error("Parley did not start", cause);
      }
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Starts a node. {@code overrides} take precedence over the environment and {@code conf/config.json}, with
   * the same keys; tests and embedding applications use them.
   *
   * <p>The node stops itself when the JVM is asked to exit (SIGTERM): a shutdown hook, registered before
   * anything starts so that a SIGTERM during start-up is honoured too, runs {@link #stop()}.
   */
  public static Future<Parley> start(JsonObject overrides) {
    // A small Vert.x only to read the configuration: the node's own one can only be built once the config says
    // whether it is clustered. The result is handed over through a promise of no context, because listeners of
    // the bootstrap's own futures would never run once it is closed.
    Vertx bootstrap = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    List<AutoCloseable> embedded = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Parley> started = new CompletableFuture<>();
    Thread hook = new Thread(() -> stopOnExit(started, embedded), "parley-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    Promise<Prepared> ready = Promise.promise();
    ConfigLoader.load(bootstrap, overrides)
      .compose(config -> bootstrap.executeBlocking(() -> prepare(config, embedded)))
      .onComplete(prepared -> {
        bootstrap.close();
        // Off the bootstrap's event loop: the node's Vert.x must not be built from inside another one.
        new Thread(() -> ready.handle(prepared), "parley-start").start();
      });
    return ready.future()
      .compose(prepared -> launch(prepared, embedded, hook))
      .onComplete(done -> {
        if (done.succeeded()) {
          started.complete(done.result());
        } else {
          closeAll(embedded);
          removeHook(hook);
          started.completeExceptionally(done.cause());
        }
      });
  }

  private static void stopOnExit(CompletableFuture<Parley> started, List<AutoCloseable> embedded) {
    Parley node;
    try {
      node = started.get(5, TimeUnit.MINUTES);
    } catch (Exception notStarted) {
      closeAll(embedded);
      return;
    }
    LOG.info("stopping: draining requests{}{}", node.config.cluster().enabled() ? ", leaving the cluster" : "",
      embedded.isEmpty() ? "" : ", then stopping the embedded services");
    try {
      node.stop().toCompletionStage().toCompletableFuture()
        .get(node.config.shutdownGraceMs() + 30_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("stop did not finish cleanly", e);
    }
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException exiting) {
      // the JVM is already exiting: the hook is running or has run
    }
  }

  public ParleyConfig config() {
    return config;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The HTTP port the node listens on: the configured one, or the one picked when {@code PORT} is 0. */
  public int httpPort() {
    return httpPort.get();
  }

  /** The node's real-time fan-out and its counters; null on a node without the ingress role. */
  public IngressVerticle.Node realtime() {
    return ingress;
  }

  /** Stops accepting, lets in-flight requests finish, leaves the cluster, then stops embedded services. */
  public synchronized Future<Void> stop() {
    if (stopping == null) {
      if (Thread.currentThread() != hook) {
        removeHook(hook);
      }
      Future<Void> undeployed = Future.succeededFuture();
      for (String deployment : ingressDeployments) {
        undeployed = undeployed.compose(v -> vertx.undeploy(deployment));
      }
      stopping = undeployed
        .eventually(vertx::close)
        // Vert.x is closed by now, so the blocking stop of the embedded servers gets a thread of its own.
        .eventually(() -> Future.fromCompletionStage(CompletableFuture.runAsync(() -> closeAll(embedded),
          runnable -> new Thread(runnable, "parley-stop").start())))
        .onSuccess(v -> LOG.info("node {} stopped", config.nodeName()));
    }
    return stopping;
  }

  /** What a node needs before its Vert.x starts: the settled config, the event loops' transport, the password hasher. */
  private record Prepared(ParleyConfig config, Transport transport, Passwords passwords) {
  }

  /** Blocking: starts embedded services as needed, settles the JWT key and the HTTP port. */
  private static Prepared prepare(ParleyConfig config, List<AutoCloseable> embedded) throws Exception {
    // First: a transport that is not there fails the start before any embedded service has been started for it.
    Transport transport = transport(config.http().transport());
    String databaseUrl = config.databaseUrl();
    if (databaseUrl == null && config.hasRole(ParleyConfig.ROLE_STORE)) {
      EmbeddedPostgresServer postgres = startEmbeddedPostgres(config.dataDir().resolve("postgres"));
      embedded.add(postgres);
      databaseUrl = postgres.database("parley");
    }
    String redisUrl = config.redisUrl();
    if (redisUrl == null && config.hasRole(ParleyConfig.ROLE_PRESENCE)) {
      EmbeddedRedisServer redis = EmbeddedRedisServer.start(config.dataDir().resolve("redis"));
      embedded.add(redis);
      redisUrl = redis.url();
    }
    String secret = config.hasRole(ParleyConfig.ROLE_INGRESS)
      ? JwtSecret.resolve(config.auth().jwtSecret(), config.dataDir())
      : config.auth().jwtSecret();
    String name = config.nodeName() != null ? config.nodeName()
      : InetAddress.getLocalHost().getHostName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    Passwords passwords = config.hasRole(ParleyConfig.ROLE_INGRESS) ? new Passwords(config.auth().bcryptCost()) : null;
    return new Prepared(config.resolved(databaseUrl, redisUrl, secret, name), transport, passwords);
  }

  private static EmbeddedPostgresServer startEmbeddedPostgres(Path directory) {
    try {
      return EmbeddedPostgresServer.start(directory, true);
    } catch (IOException | RuntimeException e) {
      String problem = String.valueOf(e.getMessage()).contains("lock")
        ? "the embedded PostgreSQL in " + directory + " is in use by another process; one DATA_DIR belongs to one node"
        : "the embedded PostgreSQL in " + directory + " did not start: " + e.getMessage();
      throw new ConfigException("DATA_DIR", problem);
    }
  }

  private static Future<Parley> launch(Prepared prepared, List<AutoCloseable> embedded, Thread hook) {
    ParleyConfig config = prepared.config();
    Meters meters = new Meters(config.nodeName());
    Transport transport = prepared.transport();
    VertxOptions options = new VertxOptions()
      // Vert.x's event-bus meters are left out: every room event and store request would update them, on the
      // hottest path, and parley_store_request_seconds and the fan-out meters say what matters about the bus.
      .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.EVENT_BUS));
    Future<Vertx> started;
    IntSupplier clusterMembers = null;
    if (config.cluster().enabled()) {
      HazelcastClusterManager manager = new HazelcastClusterManager(ClusterSetup.hazelcast(config.cluster()));
      options.getEventBusOptions().setHost(config.cluster().host()).setPort(config.cluster().eventBusPort());
      started = Vertx.builder().with(options).withTransport(transport).withMetrics(new MicrometerMetricsFactory(meters.registry()))
        .withClusterManager(manager).buildClustered();
      clusterMembers = () -> manager.isActive() ? manager.getNodes().size() : 0;
    } else {
      started = Future.succeededFuture(Vertx.builder().with(options).withTransport(transport)
        .withMetrics(new MicrometerMetricsFactory(meters.registry())).build());
    }
    IntSupplier cluster = clusterMembers;
    AtomicInteger httpPort = new AtomicInteger();
    return started.compose(vertx -> {
      IngressVerticle.Node realtime = config.hasRole(ParleyConfig.ROLE_INGRESS)
        ? new IngressVerticle.Node(vertx, config, meters) : null;
      if (realtime != null && vertx.isClustered()) {
        watchMembership(vertx, realtime);
      }
      return deploy(vertx, prepared, cluster, httpPort, realtime, meters)
      .map(ingress -> {
        Parley node = new Parley(vertx, config, embedded, ingress, hook, httpPort, realtime);
        LOG.info("Parley node {} listening on http://{}:{} (roles {}; {}; {}; {}; {})", config.nodeName(),
          config.http().host(), httpPort.get(), config.roles(), describeDatabase(config, embedded),
          describeRedis(config, embedded), config.cluster().enabled()
            ? "cluster member at " + config.cluster().host() + ":" + config.cluster().port() : "single node",
          transport.name());
        return node;
      })
      .recover(failure -> vertx.close().transform(closed -> Future.failedFuture(failure)));
    });
  }

  /**
   * The event loops' transport. {@code auto}: epoll where the native library loads (Linux on x86-64), else Java
   * NIO. {@code io_uring} only when asked for: it submits a loop's socket writes together and spends less CPU on a
   * fan-out, but Netty 4.2.10's io_uring breaks one of its own assertions under load (netty/netty#16307), and
   * with assertions on that ends the event loop. A transport named outright must be available.
   */
  static Transport transport(String name) {
    if ("nio".equals(name)) {
      return Transport.NIO;
    }
    // A native transport is null where its classes do not load.
    Transport wanted = switch (name) {
      case "io_uring" -> Transport.IO_URING;
      case "epoll", "auto" -> Transport.EPOLL;
      default -> throw new ConfigException("TRANSPORT", "unknown transport '" + name + "'");
    };
    if (wanted != null && wanted.available()) {
      return wanted;
    }
    if ("auto".equals(name)) {
      return Transport.NIO;
    }
    throw new ConfigException("TRANSPORT", name + " is not available here: " + (wanted == null
      ? "its Netty library is not on the class path" : String.valueOf(wanted.unavailabilityCause())));
  }

  /** Tells the node's rooms whenever the cluster's membership changes, this node merging back included. */
  private static void watchMembership(Vertx vertx, IngressVerticle.Node realtime) {
    HazelcastInstance hazelcast =
      ((HazelcastClusterManager) ((VertxInternal) vertx).clusterManager()).getHazelcastInstance();
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        realtime.clusterChanged();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        realtime.clusterChanged();
      }
    });
    hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
        realtime.clusterChanged();
      }
    });
  }

  /** Deploys the verticles of the node's roles in dependency order; returns the ingress deployments. */
  private static Future<List<String>> deploy(Vertx vertx, Prepared prepared, IntSupplier clusterMembers,
                                             AtomicInteger httpPort, IngressVerticle.Node node, Meters meters) {
    ParleyConfig config = prepared.config();
    List<String> ingress = new ArrayList<>();
    Future<?> chain = Future.succeededFuture();
    if (config.hasRole(ParleyConfig.ROLE_STORE)) {
      chain = chain.compose(v -> vertx.deployVerticle(new StoreVerticle(config, meters)));
    }
    if (config.hasRole(ParleyConfig.ROLE_PRESENCE)) {
      chain = chain.compose(v -> vertx.deployVerticle(new PresenceVerticle(config, meters)));
    }
    if (config.hasRole(ParleyConfig.ROLE_ASSISTANT)) {
      chain = chain.compose(v -> vertx.deployVerticle(new AssistantVerticle(config, meters)));
    }
    if (config.hasRole(ParleyConfig.ROLE_INGRESS)) {
      chain = chain.compose(v -> vertx.deployVerticle(
          () -> new IngressVerticle(config, prepared.passwords(), clusterMembers, httpPort, node),
          new DeploymentOptions().setInstances(config.http().instances()))
        .onSuccess(ingress::add));
    }
    return chain.map(ingress);
  }

  private static String describeDatabase(ParleyConfig config, List<AutoCloseable> embedded) {
    if (config.databaseUrl() == null) {
      return "no database (no store role)";
    }
    boolean own = embedded.stream().anyMatch(EmbeddedPostgresServer.class::isInstance);
    if (own) {
      // Its URL holds no password: other nodes of a trial cluster can be given it as it is.
      return "embedded PostgreSQL at " + config.databaseUrl() + " with data in " + config.dataDir().resolve("postgres");
    }
    PgConnectOptions database = PgConnectOptions.fromUri(config.databaseUrl());
    return "PostgreSQL at " + database.getHost() + ":" + database.getPort() + "/" + database.getDatabase();
  }

  private static String describeRedis(ParleyConfig config, List<AutoCloseable> embedded) {
    if (config.redisUrl() == null) {
      return "no Redis (no presence role)";
    }
    boolean own = embedded.stream().anyMatch(EmbeddedRedisServer.class::isInstance);
    if (own) {
      return "embedded Redis at " + config.redisUrl();
    }
    URI uri = URI.create(config.redisUrl());
    return "Redis at " + uri.getHost() + ":" + uri.getPort();
  }

  /** Closes in reverse order of start. */
  private static void closeAll(List<AutoCloseable> embedded) {
    List<AutoCloseable> reversed;
    synchronized (embedded) {
      reversed = new ArrayList<>(embedded);
      embedded.clear();
    }
    Collections.reverse(reversed);
    for (AutoCloseable closeable : reversed) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.warn("failed to stop {}", closeable.getClass().getSimpleName(), e);
      }
    }
  }
}
