package dev.parley.presence;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The Lua scripts of presence and rate limiting ({@code src/main/resources/redis}). Each runs atomically in
 * Redis, so several nodes may act on one room at once without locks, and takes Redis's clock as the one clock.
 * They are sent by their SHA-1 (EVALSHA), which is some 40 bytes instead of the whole script, and which Redis
 * looks up instead of hashing the text again on every call; a Redis that does not know the script (restarted,
 * or its cache flushed) answers NOSCRIPT, and the call is made once more with the text ({@link #run}).
 */
final class Scripts {

  /** One script: its text and the SHA-1 Redis knows it by. */
  record Script(String source, String sha) {
  }

  static final Script CONNECT = load("connect");
  static final Script DISCONNECT = load("disconnect");
  static final Script REFRESH = load("refresh");
  static final Script SWEEP = load("sweep");
  static final Script LIST = load("list");
  static final Script RATE = load("rate");
  static final Script ANSWER_APPEND = load("answer_append");
  static final Script ANSWER_END = load("answer_end");
  static final Script ANSWER_PROGRESS = load("answer_progress");

  private Scripts() {
  }

  /**
   * Runs a script: EVALSHA, then EVAL with its text if Redis does not know it yet.
   *
   * @param keysAndArgs the number of keys, the keys, then the arguments, as EVAL takes them after the script
   */
  static Future<Response> run(RedisAPI api, Script script, List<String> keysAndArgs) {
    return api.evalsha(command(script.sha(), keysAndArgs)).recover(failure ->
      String.valueOf(failure.getMessage()).startsWith("NOSCRIPT") ? api.eval(command(script.source(), keysAndArgs))
        : Future.failedFuture(failure));
  }

  private static List<String> command(String script, List<String> keysAndArgs) {
    List<String> command = new ArrayList<>(keysAndArgs.size() + 1);
    command.add(script);
    command.addAll(keysAndArgs);
    return command;
  }

  private static Script load(String name) {
    try (InputStream in = Scripts.class.getResourceAsStream("/redis/" + name + ".lua")) {
      if (in == null) {
        throw new IllegalStateException("redis/" + name + ".lua is missing from the jar");
      }
      String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Script(source, HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-1", e);
    }
  }
}
