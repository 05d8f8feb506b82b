package dev.parley.support;

import io.vertx.redis.client.RedisAPI;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Redis's own count of the commands it ran ({@code INFO commandstats}), for tests that count round trips. */
public final class RedisStats {

  private RedisStats() {
  }

  /** How often Redis ran {@code command} (lower case, e.g. {@code evalsha}) since it started. */
  public static long calls(RedisAPI redis, String command) {
    return field(redis, command, "calls");
  }

  /** How many of those calls answered with an error (a NOSCRIPT among them). */
  public static long failedCalls(RedisAPI redis, String command) {
    return field(redis, command, "failed_calls");
  }

  private static long field(RedisAPI redis, String command, String field) {
    String stats = redis.info(List.of("commandstats")).await().toString();
    Matcher value = Pattern.compile("cmdstat_" + command + ":(?:[^\\r\\n]*,)?" + field + "=(\\d+)").matcher(stats);
    return value.find() ? Long.parseLong(value.group(1)) : 0;
  }
}
