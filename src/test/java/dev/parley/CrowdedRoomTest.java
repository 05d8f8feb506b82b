package dev.parley;

import dev.parley.bus.PresenceClient;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.RedisStats;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Presence in a room with more users online than {@code PRESENCE_MAX_LISTED} (3 here): members get counts
 * instead of names, joins list only part of the room, and the full list comes back when it is short again.
 * A burst of leaves reaches Redis in a few script calls, and a room of more sockets than one fan-out task
 * writes gets its messages in order.
 */
@Timeout(60)
class CrowdedRoomTest {

  private static final int MAX_LISTED = 3;
  private static Parley node;
  private static Api api;
  private static int port;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
      .put("PRESENCE_MAX_LISTED", MAX_LISTED));
    port = node.httpPort();
    api = new Api(port);
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static String presencePath(String id) {
    return "/api/conversations/" + id + "/presence";
  }

  private static String room(Session owner, List<Session> others) {
    String id = api.conversation(owner, "crowd");
    for (Session other : others) {
      assertEquals(201, api.post("/api/conversations/" + id + "/members", owner.token(),
        new JsonObject().put("userId", other.userId())).status());
    }
    return id;
  }

  private static Set<String> ids(JsonArray users) {
    return users.stream().map(user -> ((JsonObject) user).getString("id")).collect(Collectors.toSet());
  }

  private static Predicate<JsonObject> about(Session who) {
    return frame -> frame.getJsonObject("user") != null && who.userId().equals(frame.getJsonObject("user").getString("id"));
  }

  @Test
  void aCrowdedRoomCountsInsteadOfNamingAndNamesEveryoneAgainOnceItIsShort() {
    List<Session> users = IntStream.range(0, 5).mapToObj(i -> api.register("crowd" + i)).toList();
    String id = room(users.get(0), users.subList(1, users.size()));
    List<Ws> sockets = new ArrayList<>();
    try {
      Ws watcher = Ws.open(port, users.get(0).token());
      sockets.add(watcher);
      watcher.join(id);
      for (int i = 1; i < MAX_LISTED; i++) {
        Ws socket = Ws.open(port, users.get(i).token());
        sockets.add(socket);
        socket.join(id);
        watcher.await("presence", about(users.get(i)));
      }
      // The fourth user makes the room crowded: a count, not a name.
      Ws fourth = Ws.open(port, users.get(3).token());
      sockets.add(fourth);
      fourth.join(id);
      JsonObject occupancy = watcher.await("occupancy", frame -> frame.getLong("count") == 4);
      assertNull(occupancy.getJsonArray("users"), "four are too many to list: " + occupancy.encode());

      Ws fifth = Ws.open(port, users.get(4).token());
      sockets.add(fifth);
      fifth.send(new JsonObject().put("type", "join").put("conversationId", id));
      JsonObject joined = fifth.await("joined");
      assertEquals(MAX_LISTED, joined.getJsonArray("presence").size(), joined.encode());
      assertEquals(5, joined.getLong("presenceCount"));
      assertTrue(joined.getBoolean("presenceTruncated"));
      watcher.await("occupancy", frame -> frame.getLong("count") == 5);

      JsonObject listed = api.get(presencePath(id) + "?limit=2", users.get(0).token()).json();
      assertEquals(2, listed.getJsonArray("users").size(), listed.encode());
      assertEquals(5, listed.getLong("count"));
      assertTrue(listed.getBoolean("truncated"));
      JsonObject everyone = api.get(presencePath(id) + "?limit=100", users.get(0).token()).json();
      assertEquals(ids(new JsonArray(users.stream().map(u -> new JsonObject().put("id", u.userId())).toList())),
        ids(everyone.getJsonArray("users")));
      assertFalse(everyone.getBoolean("truncated"));
      assertEquals("INVALID_INPUT", api.get(presencePath(id) + "?limit=0", users.get(0).token()).errorCode());

      // Back to three: one frame names all of them again, for members who had only part of the list.
      fifth.close();
      fourth.close();
      JsonObject shortAgain = watcher.await("occupancy", frame -> frame.getLong("count") == MAX_LISTED);
      assertEquals(ids(new JsonArray(users.subList(0, MAX_LISTED).stream()
        .map(u -> new JsonObject().put("id", u.userId())).toList())), ids(shortAgain.getJsonArray("users")));
      // And below the limit, each change by name once more.
      sockets.get(2).close();
      assertEquals("offline", watcher.await("presence", about(users.get(2))).getString("state"));
      for (Session crowded : users.subList(3, 5)) {
        assertTrue(watcher.received().stream().noneMatch(frame -> "presence".equals(frame.getString("type"))
          && about(crowded).test(frame)), "no presence frame named a user of the crowded room");
      }
    } finally {
      sockets.forEach(Ws::close);
    }
  }

  @Test
  void aBurstOfLeavesGoesToRedisInAFewCalls() {
    Session owner = api.register("burst");
    String id = api.conversation(owner, "burst");
    PresenceClient presence = new PresenceClient(node.vertx(), true, 10_000, true);
    JsonObject user = new JsonObject().put("id", owner.userId()).put("displayName", "burst");
    int connections = 1000;
    RedisAPI redis = RedisAPI.api(Redis.createClient(node.vertx(), TestServices.redisUrl()));
    try {
      Future.all(IntStream.range(0, connections).mapToObj(i -> presence.connect(id, "burst-" + i, user)).toList())
        .await();
      JsonObject listed = presence.list(id, null).await();
      assertEquals(1, listed.getLong("count"), "one user, however many connections");
      assertEquals(connections, listed.getJsonArray("users").getJsonObject(0).getInteger("connections"));
      long before = evalCalls(redis);
      Future.all(IntStream.range(0, connections).mapToObj(i -> presence.disconnect(id, "burst-" + i)).toList())
        .await();
      assertEquals(0, presence.list(id, null).await().getLong("count"));
      long calls = evalCalls(redis) - before;
      // A list, a sweep or a refresh of the node's own, and the batches: far fewer than one call each.
      assertTrue(calls <= 30, connections + " leaves took " + calls + " script calls");
    } finally {
      redis.close();
    }
  }

  /**
   * More sockets than one fan-out task writes (RoomHub.SLICE): every socket gets every message once, in seq order,
   * while the room's events go out a slice at a time.
   */
  @Test
  void aRoomOfMoreSocketsThanASliceGetsEveryMessageOnceInOrder() throws Exception {
    Session host = api.register("host");
    String id = api.conversation(host, "big");
    int sockets = 800;
    int messages = 30;
    Vertx client = Vertx.vertx();
    try {
      WebSocketClient ws = client.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(sockets));
      List<List<Long>> seen = new ArrayList<>();
      CountDownLatch joined = new CountDownLatch(sockets);
      CountDownLatch complete = new CountDownLatch(sockets);
      for (int i = 0; i < sockets; i++) {
        List<Long> seqs = Collections.synchronizedList(new ArrayList<>());
        seen.add(seqs);
        ClientWebSocket socket = ws.webSocket();
        socket.textMessageHandler(text -> {
          JsonObject frame = new JsonObject(text);
          if ("joined".equals(frame.getString("type"))) {
            joined.countDown();
          } else if ("message".equals(frame.getString("type"))) {
            seqs.add(frame.getLong("seq"));
            if (seqs.size() == messages) {
              complete.countDown();
            }
          }
        });
        socket.connect(port, "localhost", "/ws/chat/" + id + "?token=" + host.token()).await();
      }
      assertTrue(joined.await(30, TimeUnit.SECONDS), "every socket joined");
      for (int m = 0; m < messages; m++) {
        assertEquals(201, api.say(host, id, "to everyone " + m).status());
      }
      assertTrue(complete.await(30, TimeUnit.SECONDS), "every socket got every message");
      List<Long> expected = LongStream.rangeClosed(1, messages).boxed().toList();
      for (List<Long> seqs : seen) {
        assertEquals(expected, new ArrayList<>(seqs));
      }
    } finally {
      client.close().await();
    }
  }

  /** Script calls so far, by text or by SHA-1. */
  private static long evalCalls(RedisAPI redis) {
    return RedisStats.calls(redis, "eval") + RedisStats.calls(redis, "evalsha");
  }
}
