package dev.parley.faults;

import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.NodeProcess;
import dev.parley.support.Ws;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fault suite's rows about nodes dying (issue 7): {@code kill -9} under load, presence after a crash and after
 * SIGTERM, a node paused past the heartbeat timeout, and two of three nodes killed. The nodes are real processes
 * on loopback ({@link FaultCluster}); the clients reconnect and resume as a client library does ({@link Crowd}).
 * In order: each row leaves the cluster as the next one expects it.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(NodeProcess.LogsOnFailure.class)
class CrashFaultIT {

  private static FaultCluster cluster;
  private static Api api;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster(Map.of("RATE_LIMIT_MESSAGES_PER_MIN", "100000", "SHUTDOWN_GRACE_MS", "5000"));
    cluster.start(3);
    api = new Api(cluster.port(0));
    cluster.awaitMembers(0, 3, 60_000);
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
    cluster.close();
  }

  /**
   * 200 clients in 10 rooms of 20, spread over three nodes, sending 50 messages a second; node 2 is killed with
   * SIGKILL. Its clients reconnect to the others, resume and resend. Every acknowledged message is stored once and
   * reaches every member, in seq order without a gap, and a user who was only on node 2 goes offline everywhere.
   */
  @Test
  @Order(1)
  void killNineUnderLoad() throws Exception {
    int clients = FaultRow.scaled(200, 200);
    int rate = 50;
    try (Crowd crowd = new Crowd(cluster.ports().subList(0, 3))) {
      Map<String, Session> owners = Rooms.populate(api, crowd, clients / 20, 20, 3);
      String firstRoom = owners.keySet().iterator().next();
      Session ghost = api.register("ghost");
      api.post("/api/conversations/" + firstRoom + "/members", owners.get(firstRoom).token(),
        new JsonObject().put("userId", ghost.userId()));
      crowd.connectAll();
      try (Ws watcher = Ws.open(cluster.port(0), owners.get(firstRoom).token());
           Ws ghostOnVictim = Ws.open(cluster.port(2), ghost.token())) {
        watcher.join(firstRoom);
        ghostOnVictim.join(firstRoom);
        watcher.await("presence", f -> about(f, ghost) && "online".equals(f.getString("state")));

        crowd.publish(rate, user -> true);
        TimeUnit.SECONDS.sleep(FaultRow.scaled(10, 4));
        long killedAt = System.nanoTime();
        cluster.node(2).kill9();
        TimeUnit.SECONDS.sleep(FaultRow.scaled(20, 6));
        crowd.stopPublishing();
        boolean settled = crowd.awaitSettled(30_000);

        watcher.await(f -> "presence".equals(f.getString("type")) && about(f, ghost)
          && "offline".equals(f.getString("state")), 30_000);
        long offlineMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);

        Rooms.Audit audit = Rooms.audit(api, crowd, owners);
        long catchUp = crowd.read(c -> c.users().stream().flatMap(u -> u.catchUpMs.stream())
          .mapToLong(Long::longValue).max().orElse(-1));
        long movedClients = crowd.read(c -> c.users().stream().filter(u -> !u.catchUpMs.isEmpty()).count());
        FaultRow.of("kill -9 of one of 3 nodes, " + clients + " clients sending " + rate + " msg/s")
          .note(audit.acked() + " acknowledged, " + movedClients + " clients moved")
          .figure(audit.lost() + " acknowledged lost", "0", audit.lost() == 0)
          .figure((audit.storedTwice() + audit.duplicates()) + " duplicates (stored or delivered)", "0",
            audit.storedTwice() + audit.duplicates() == 0)
          .figure((audit.gaps() + audit.seqGaps()) + " seq gaps, " + audit.behind() + " messages never delivered",
            "0", audit.gaps() + audit.seqGaps() + audit.behind() == 0 && settled)
          .figure("caught up " + catchUp + " ms after the kill, at the slowest", "≤ 5000 ms",
            catchUp >= 0 && catchUp <= 5_000)
          .figure("a user only on the killed node offline everywhere after " + offlineMs + " ms", "≤ 30000 ms",
            offlineMs <= 30_000)
          .report();
      }
    }
  }

  /** A node stopped with SIGTERM: its users are offline on the other nodes within 3 s. */
  @Test
  @Order(2)
  void sigtermPresence() throws Exception {
    int extra = cluster.start(1).get(0);
    Session gil = api.register("gil");
    Session hal = api.register("hal");
    String room = api.conversation(gil, "sigterm");
    api.post("/api/conversations/" + room + "/members", gil.token(), new JsonObject().put("userId", hal.userId()));
    try (Ws watcher = Ws.open(cluster.port(0), gil.token()); Ws leaving = Ws.open(cluster.port(extra), hal.token())) {
      watcher.join(room);
      leaving.join(room);
      watcher.await("presence", f -> about(f, hal) && "online".equals(f.getString("state")));
      long stoppedAt = System.nanoTime();
      cluster.node(extra).sigterm();
      short code = leaving.awaitClose(15_000);
      watcher.await(f -> "presence".equals(f.getString("type")) && about(f, hal)
        && "offline".equals(f.getString("state")), 10_000);
      long offlineMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
      FaultRow.of("SIGTERM of a node")
        .figure("its sockets closed with " + code, "1012", code == 1012)
        .figure("its users offline everywhere after " + offlineMs + " ms", "≤ 3000 ms", offlineMs <= 3_000)
        .report();
    }
    cluster.node(extra).process().waitFor(30, TimeUnit.SECONDS);
  }

  /**
   * A node frozen with SIGSTOP past the heartbeat timeout, then resumed, while 60 clients over three nodes send
   * 20 messages a second: the others remove it, it merges back, and every acknowledged message reaches everyone.
   */
  @Test
  @Order(3)
  void pausedNodeRejoins() throws Exception {
    int paused = cluster.start(1).get(0);
    List<Integer> live = List.of(cluster.port(0), cluster.port(1), cluster.port(paused));
    cluster.awaitMembers(0, 3, 60_000);
    try (Crowd crowd = new Crowd(live)) {
      Map<String, Session> owners = Rooms.populate(api, crowd, 6, 10, 3);
      crowd.connectAll();
      crowd.publish(20, user -> true);
      TimeUnit.SECONDS.sleep(3);
      cluster.node(paused).pause();
      long removedAfter = cluster.awaitMembers(0, 2, 60_000);
      TimeUnit.SECONDS.sleep(2);
      cluster.node(paused).unpause();
      long resumedAt = System.nanoTime();
      cluster.awaitMembers(0, 3, 120_000);
      cluster.awaitMembers(paused, 3, 60_000);
      long rejoinedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedAt);
      crowd.takeLatency();
      TimeUnit.SECONDS.sleep(FaultRow.scaled(10, 5));
      Histogram after = crowd.takeLatency();
      crowd.stopPublishing();
      boolean settled = crowd.awaitSettled(30_000);
      Rooms.Audit audit = Rooms.audit(api, crowd, owners);
      long reconnects = crowd.sum(user -> user.reconnects);
      FaultRow.of("a node paused (SIGSTOP) past the heartbeat timeout, then resumed, 60 clients at 20 msg/s")
        .note("removed by the others " + removedAfter + " ms into the pause; " + audit.acked() + " acknowledged; "
          + reconnects + " reconnects")
        .figure("rejoined " + rejoinedMs + " ms after SIGCONT", "rejoins", true)
        .figure(audit.lost() + " acknowledged lost", "0", audit.lost() == 0)
        .figure(audit.behind() + " messages never delivered, " + (audit.storedTwice() + audit.duplicates())
          + " duplicates", "0", audit.behind() == 0 && audit.storedTwice() + audit.duplicates() == 0 && settled)
        .figure(String.format("after the rejoin, delivery p99 %.1f ms", after.getValueAtPercentile(99) / 1e3),
          "delivers", after.getTotalCount() > 0)
        .report();
    }
  }

  /** Two of the three nodes killed at once: once the survivor has noticed, it serves 1,000 requests in time. */
  @Test
  @Order(4)
  void twoOfThreeKilled() throws Exception {
    List<Integer> alive = new ArrayList<>();
    for (int i = 1; i < cluster.size() && alive.size() < 2; i++) {
      if (cluster.node(i).process().isAlive()) {
        alive.add(i);
      }
    }
    while (alive.size() < 2) {
      alive.add(cluster.start(1).get(0));
    }
    cluster.awaitMembers(0, 3, 60_000);
    Session kim = api.register("kim");
    String room = api.conversation(kim, "the survivor");
    long killedAt = System.nanoTime();
    for (int i : alive) {
      cluster.node(i).process().toHandle().destroyForcibly();
    }
    long noticedMs = cluster.awaitMembers(0, 1, 60_000);
    long sinceKill = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);

    int requests = 1_000;
    Vertx vertx = Vertx.vertx();
    try (Ws watcher = Ws.open(cluster.port(0), kim.token())) {
      watcher.join(room);
      WebClient http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(cluster.port(0)));
      AtomicInteger timeouts = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      Histogram latency = new Histogram(60_000_000L, 3);
      for (int from = 0; from < requests; from += 20) {
        List<Future<?>> batch = new ArrayList<>();
        for (int i = from; i < from + 20; i++) {
          long sent = System.nanoTime();
          var request = i % 2 == 0
            ? http.request(HttpMethod.POST, "/api/conversations/" + room + "/messages").timeout(5_000)
                .bearerTokenAuthentication(kim.token())
                .sendJsonObject(new JsonObject().put("content", "survivor " + i).put("clientMsgId", "s-" + i))
            : http.request(HttpMethod.GET, "/api/conversations/" + room + "/messages?limit=20").timeout(5_000)
                .bearerTokenAuthentication(kim.token()).send();
          batch.add(request.andThen(done -> {
            if (done.failed()) {
              (done.cause() instanceof java.util.concurrent.TimeoutException ? timeouts : failed).incrementAndGet();
            } else if (done.result().statusCode() / 100 != 2) {
              failed.incrementAndGet();
            } else {
              synchronized (latency) {
                latency.recordValue((System.nanoTime() - sent) / 1_000);
              }
            }
          }).recover(e -> Future.succeededFuture()));
        }
        Future.all(batch).await();
      }
      for (int i = 0; i < requests / 2; i++) {
        watcher.await("message");
      }
      FaultRow.of("two of three nodes killed at once")
        .note("the survivor saw it " + noticedMs + " ms after the kill (" + sinceKill + " ms in all)")
        .figure(timeouts.get() + " timeouts, " + failed.get() + " errors in " + requests
          + " requests (half posts, half reads)", "0 timeouts", timeouts.get() == 0 && failed.get() == 0)
        .note(String.format("p99 %.1f ms, max %.1f ms; every post reached a socket on the survivor",
          latency.getValueAtPercentile(99) / 1e3, latency.getMaxValue() / 1e3))
        .report();
      assertEquals(requests / 2, Rooms.stored(api, room, kim.token()).size(), "every post stored once");
    } finally {
      vertx.close().await();
    }
  }

  private static boolean about(JsonObject frame, Session user) {
    return user.userId().equals(frame.getJsonObject("user", new JsonObject()).getString("id"));
  }
}
