package dev.parley;

import dev.parley.bus.Addresses;
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
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes in one Hazelcast cluster, sharing one PostgreSQL and one Redis. Node B runs no store of its own,
 * so everything it does with data crosses the cluster to node A's store.
 */
class ClusterTest {

  private static Parley a;
  private static Parley b;
  private static Api apiA;
  private static Api apiB;

  @BeforeAll
  static void start() throws IOException {
    String database = TestServices.newDatabase();
    String redis = TestServices.redisUrl();
    int portA = Ports.free();
    int portB = Ports.free();
    a = Nodes.start(Nodes.config(database, redis).put("NODE_NAME", "node-a").put("CLUSTER", true)
      .put("CLUSTER_PORT", portA).put("CLUSTER_MEMBERS", "127.0.0.1:" + portB));
    b = Nodes.start(Nodes.config(database, redis).put("NODE_NAME", "node-b").put("CLUSTER", true)
      .put("CLUSTER_PORT", portB).put("CLUSTER_MEMBERS", "127.0.0.1:" + portA)
      .put("ROLES", "ingress,presence,assistant"));
    apiA = new Api(a.httpPort());
    apiB = new Api(b.httpPort());
  }

  @AfterAll
  static void stop() {
    apiA.close();
    apiB.close();
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
  void aStoreRequestFromTheNodeWithoutAStoreIsServedAcrossTheCluster() {
    Session bob = apiA.register("bob");
    StoreClient fromB = new StoreClient(b.vertx(), false, 5_000);
    User user = fromB.user(bob.userId()).await();
    assertEquals(bob.email(), user.email());
    fromB.ping().await();
  }

  @Test
  void roomEventsPublishedByTheStoreReachConsumersOnTheOtherNode() throws Exception {
    Session carol = apiA.register("carol");
    String id = apiA.conversation(carol, "live");
    CompletableFuture<JsonObject> probe = new CompletableFuture<>();
    CompletableFuture<JsonObject> event = new CompletableFuture<>();
    MessageConsumer<JsonObject> consumer = b.vertx().eventBus().<JsonObject>consumer(Addresses.roomAddress(id), m -> {
      if ("probe".equals(m.body().getString("type"))) {
        probe.complete(m.body());
      } else {
        event.complete(m.body());
      }
    });
    consumer.completion().await();
    // The registration reaches node A's view of the cluster asynchronously: publish probes until one arrives.
    long timer = a.vertx().setPeriodic(0, 50, t -> a.vertx().eventBus()
      .publish(Addresses.roomAddress(id), new JsonObject().put("type", "probe")));
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
  void bothNodesAreReadyAndSeeTheCluster() {
    for (Api api : new Api[] {apiA, apiB}) {
      Reply ready = api.get("/ready", null);
      assertEquals(200, ready.status(), ready.text());
      assertTrue(ready.text().contains("cluster"), ready.text());
      assertEquals("UP", ready.json().getString("status"));
    }
  }

  @Test
  void aStoppedNodeLeavesTheClusterAtOnce() throws Exception {
    int portC = Ports.free();
    Parley c = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()).put("NODE_NAME", "node-c")
      .put("CLUSTER", true).put("CLUSTER_PORT", portC).put("CLUSTER_MEMBERS", "127.0.0.1:" + a.config().cluster().port())
      .put("ROLES", "ingress"));
    HazelcastInstance seenFromA = ((HazelcastClusterManager) ((VertxInternal) a.vertx()).clusterManager())
      .getHazelcastInstance();
    assertEquals(3, seenFromA.getCluster().getMembers().size());
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
      c.stop().await();
      // A crashed member is noticed only after 15 s without heartbeats (conf/cluster.xml); a stopped one says goodbye.
      assertEquals(portC, left.get(10, TimeUnit.SECONDS));
      assertEquals(2, seenFromA.getCluster().getMembers().size());
    } finally {
      seenFromA.getCluster().removeMembershipListener(listener);
    }
  }
}
