package dev.parley;

import dev.parley.bus.Addresses;
import dev.parley.bus.RoomEvents;
import io.vertx.core.buffer.Buffer;
import dev.parley.bus.StoreClient;
import dev.parley.bus.User;
import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.config.Ports;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes in one Hazelcast cluster, sharing one PostgreSQL and one Redis. A and B run every role and start at
 * the same time on a fresh database (so their migrations race); C runs only the HTTP ingress, so everything it
 * does with data crosses the cluster to another node's store.
 */
class ClusterTest {

  private static String database;
  private static Parley a;
  private static Parley b;
  private static Parley c;
  private static Api apiA;
  private static Api apiB;
  private static Api apiC;

  @BeforeAll
  static void start() throws IOException {
    database = TestServices.newDatabase();
    int portA = Ports.free();
    int portB = Ports.free();
    String seeds = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    Future<Parley> startA = Parley.start(member("node-a", portA, seeds));
    Future<Parley> startB = Parley.start(member("node-b", portB, seeds));
    a = startA.await();
    b = startB.await();
    c = Nodes.start(member("node-c", Ports.free(), seeds).put("ROLES", "ingress"));
    apiA = new Api(a.httpPort());
    apiB = new Api(b.httpPort());
    apiC = new Api(c.httpPort());
  }

  private static JsonObject member(String name, int clusterPort, String seeds) {
    return Nodes.config(database, TestServices.redisUrl()).put("NODE_NAME", name).put("CLUSTER", true)
      .put("CLUSTER_PORT", clusterPort).put("CLUSTER_MEMBERS", seeds);
  }

  @AfterAll
  static void stop() {
    for (Api api : new Api[] {apiA, apiB, apiC}) {
      api.close();
    }
    c.stop().await();
    b.stop().await();
    a.stop().await();
  }

  @Test
  void aMessagePostedThroughOneNodeIsListedThroughTheOther() {
    Session alice = apiA.register("alice");
    String id = apiA.conversation(alice, "across");
    Reply posted = apiA.say(alice, id, "hello from A");
    assertEquals(201, posted.status(), posted.text());

    Reply listed = apiB.get("/api/conversations/" + id + "/messages", alice.token());
    assertEquals(200, listed.status(), listed.text());
    JsonObject message = listed.json().getJsonArray("messages").getJsonObject(0);
    assertEquals("hello from A", message.getString("content"));
    assertEquals(posted.json().getString("id"), message.getString("id"));

    // And the other way round, with the token issued by the other node.
    assertEquals(2, apiB.say(alice, id, "hello from B").json().getLong("seq"));
    assertEquals(2, apiA.get("/api/conversations/" + id, alice.token()).json().getLong("lastSeq"));
  }

  @Test
  void concurrentMessagesThroughBothStoresGetGaplessSeqs() throws Exception {
    Session dan = apiA.register("dan");
    String id = apiA.conversation(dan, "busy");
    int each = 15;
    ExecutorService senders = Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<List<Long>>> runs = new ArrayList<>();
      for (Api api : new Api[] {apiA, apiB}) {
        runs.add(senders.submit(() -> {
          List<Long> seqs = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            Reply posted = api.say(dan, id, "m" + i);
            assertEquals(201, posted.status(), posted.text());
            seqs.add(posted.json().getLong("seq"));
          }
          return seqs;
        }));
      }
      Set<Long> acknowledged = new TreeSet<>();
      for (java.util.concurrent.Future<List<Long>> run : runs) {
        acknowledged.addAll(run.get(60, TimeUnit.SECONDS));
      }
      Set<Long> expected = LongStream.rangeClosed(1, 2L * each).boxed().collect(Collectors.toCollection(TreeSet::new));
      assertEquals(expected, acknowledged, "every seq once, none skipped");
      Reply listed = apiC.get("/api/conversations/" + id + "/messages?after=0&limit=100", dan.token());
      assertEquals(2 * each, listed.json().getJsonArray("messages").size());
    } finally {
      senders.shutdownNow();
    }
  }

  @Test
  void aNodeWithoutAStoreIsServedByTheOthers() {
    Session bob = apiC.register("bob");
    StoreClient fromC = new StoreClient(c.vertx(), false, 5_000);
    User user = fromC.user(bob.userId()).await();
    assertEquals(bob.email(), user.email());
    fromC.ping().await();
    String id = apiC.conversation(bob, "storeless");
    assertEquals(201, apiC.say(bob, id, "stored elsewhere").status());
    assertEquals(1, apiA.get("/api/conversations/" + id, bob.token()).json().getLong("lastSeq"));
  }

  @Test
  void roomEventsPublishedByTheStoreReachConsumersOnTheOtherNode() throws Exception {
    Session carol = apiA.register("carol");
    String id = apiA.conversation(carol, "live");
    CompletableFuture<JsonObject> probe = new CompletableFuture<>();
    CompletableFuture<JsonObject> event = new CompletableFuture<>();
    // Room events travel as the encoded frame, with the type (and seq) in headers.
    MessageConsumer<Buffer> consumer = b.vertx().eventBus().<Buffer>consumer(Addresses.roomAddress(id), m -> {
      if ("probe".equals(m.headers().get(RoomEvents.TYPE_HEADER))) {
        probe.complete(new JsonObject(m.body()));
      } else {
        assertEquals("1", m.headers().get(RoomEvents.SEQ_HEADER));
        event.complete(new JsonObject(m.body()));
      }
    });
    consumer.completion().await();
    // The registration reaches node A's view of the cluster asynchronously: publish probes until one arrives.
    long timer = a.vertx().setPeriodic(0, 50, t -> RoomEvents.publish(a.vertx().eventBus(), id,
      new JsonObject().put("type", "probe")));
    probe.get(20, TimeUnit.SECONDS);
    a.vertx().cancelTimer(timer);

    Reply posted = apiA.say(carol, id, "broadcast me");
    JsonObject received = event.get(10, TimeUnit.SECONDS);
    assertEquals("message", received.getString("type"));
    assertEquals(posted.json().getString("id"), received.getString("id"));
    assertEquals(1, received.getLong("seq"));
    assertEquals("broadcast me", received.getString("content"));
    consumer.unregister().await();
  }

  @Test
  void everyNodeIsReadyAndSeesTheCluster() {
    for (Api api : new Api[] {apiA, apiB, apiC}) {
      Reply ready = api.get("/ready", null);
      assertEquals(200, ready.status(), ready.text());
      assertTrue(ready.text().contains("cluster"), ready.text());
      assertEquals("UP", ready.json().getString("status"));
    }
  }

  @Test
  void aStoppedNodeLeavesTheClusterAtOnce() throws Exception {
    int portD = Ports.free();
    Parley d = Nodes.start(member("node-d", portD, "127.0.0.1:" + a.config().cluster().port()).put("ROLES", "ingress"));
    HazelcastInstance seenFromA = ((HazelcastClusterManager) ((VertxInternal) a.vertx()).clusterManager())
      .getHazelcastInstance();
    assertEquals(4, seenFromA.getCluster().getMembers().size());
    CompletableFuture<Integer> left = new CompletableFuture<>();
    UUID listener = seenFromA.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        left.complete(event.getMember().getAddress().getPort());
      }
    });
    try {
      d.stop().await();
      // A crashed member is noticed only after 15 s without heartbeats (conf/cluster.xml); a stopped one says goodbye.
      assertEquals(portD, left.get(10, TimeUnit.SECONDS));
      assertEquals(3, seenFromA.getCluster().getMembers().size());
    } finally {
      seenFromA.getCluster().removeMembershipListener(listener);
    }
  }
}
