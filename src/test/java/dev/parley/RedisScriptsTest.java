package dev.parley;

import dev.parley.bus.PresenceApi;
import dev.parley.bus.PresenceClient;
import dev.parley.support.Nodes;
import dev.parley.support.RedisStats;
import dev.parley.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Presence and the rate limit call their Redis scripts by SHA-1, and carry on when Redis has forgotten them (a
 * restart, {@code SCRIPT FLUSH}): the call that meets NOSCRIPT is made again with the script's text.
 */
@Timeout(60)
class RedisScriptsTest {

  private static Parley node;
  private static RedisAPI redis;
  private static PresenceClient presence;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()));
    redis = RedisAPI.api(Redis.createClient(node.vertx(), TestServices.redisUrl()));
    // Fail closed: a script call that failed would show as a refusal here, not pass unseen.
    presence = new PresenceClient(node.vertx(), true, 10_000, false);
  }

  @AfterAll
  static void stop() {
    redis.close();
    node.stop().await();
  }

  @Test
  void scriptsGoBySha1AndComeBackAfterRedisForgetsThem() throws Exception {
    String rate = sha1("rate");
    // Every script known to Redis first, so that no call of the node's own timers (a sweep) meets NOSCRIPT below.
    for (String name : SCRIPTS) {
      assertEquals(sha1(name), redis.script(List.of("LOAD", text(name))).await().toString(), name + "'s SHA-1");
    }
    checks(1);
    long before = calls("evalsha");
    long failedBefore = failedCalls("evalsha");
    checks(50);
    assertTrue(calls("evalsha") - before >= 50, "50 rate checks by EVALSHA");
    // A wrong SHA-1 would pass the above on NOSCRIPT and its fallback: each of those EVALSHAs fails.
    assertEquals(failedBefore, failedCalls("evalsha"), "no EVALSHA met NOSCRIPT");
    assertEquals(1, known(rate), "Redis has the script");

    redis.script(List.of("FLUSH")).await();
    assertEquals(0, known(rate), "forgotten");
    checks(50);
    assertEquals(1, known(rate), "loaded again by the first call that met NOSCRIPT");
    assertTrue(failedCalls("evalsha") > failedBefore, "that call is counted as failed (so the count above means it)");

    // Presence's scripts (no keys of their own) likewise: a join, the room's list, a leave.
    String room = UUID.randomUUID().toString();
    JsonObject user = new JsonObject().put("id", UUID.randomUUID().toString()).put("displayName", "sha");
    presence.connect(room, "conn-1", user).await();
    assertEquals(1, presence.list(room, null).await().getLong("count"));
    presence.disconnect(room, "conn-1").await();
    assertEquals(0, presence.list(room, null).await().getLong("count"));
  }

  /** {@code count} message rate checks, one each for as many new users: all allowed. */
  private static void checks(int count) {
    Future.all(IntStream.range(0, count)
      .mapToObj(i -> presence.checkRate(PresenceApi.KIND_MESSAGE, UUID.randomUUID().toString())).toList()).await();
  }

  private static long known(String sha) {
    return redis.script(List.of("EXISTS", sha)).await().get(0).toLong();
  }

  private static long calls(String command) {
    return RedisStats.calls(redis, command);
  }

  private static long failedCalls(String command) {
    return RedisStats.failedCalls(redis, command);
  }

  private static final List<String> SCRIPTS = List.of("connect", "disconnect", "refresh", "sweep", "list", "rate",
    "answer_append", "answer_end", "answer_progress");

  private static byte[] bytes(String script) throws Exception {
    try (InputStream in = RedisScriptsTest.class.getResourceAsStream("/redis/" + script + ".lua")) {
      return in.readAllBytes();
    }
  }

  private static String text(String script) throws Exception {
    return new String(bytes(script), java.nio.charset.StandardCharsets.UTF_8);
  }

  private static String sha1(String script) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes(script)));
  }
}
