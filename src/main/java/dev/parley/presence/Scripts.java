package dev.parley.presence;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The Lua scripts of presence and rate limiting ({@code src/main/resources/redis}). Each runs atomically in
 * Redis, so several nodes may act on one room at once without locks, and takes Redis's clock as the one clock.
 * They are sent with EVAL every time: Redis caches the compiled script, and a restarted Redis (which forgets
 * loaded scripts) needs no special handling.
 */
final class Scripts {

  static final String CONNECT = load("connect");
  static final String DISCONNECT = load("disconnect");
  static final String REFRESH = load("refresh");
  static final String SWEEP = load("sweep");
  static final String LIST = load("list");
  static final String RATE = load("rate");
  static final String ANSWER_APPEND = load("answer_append");
  static final String ANSWER_END = load("answer_end");
  static final String ANSWER_PROGRESS = load("answer_progress");

  private Scripts() {
  }

  private static String load(String name) {
    try (InputStream in = Scripts.class.getResourceAsStream("/redis/" + name + ".lua")) {
      if (in == null) {
        throw new IllegalStateException("redis/" + name + ".lua is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
