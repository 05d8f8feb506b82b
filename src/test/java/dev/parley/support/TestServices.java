package dev.parley.support;

import dev.parley.config.EmbeddedPostgresServer;
import dev.parley.config.EmbeddedRedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL and one real Redis for the whole test run, started on first use and stopped when the JVM
 * exits. Each test class takes a database of its own, so classes never see each other's data.
 */
public final class TestServices {

  private static EmbeddedPostgresServer postgres;
  private static EmbeddedRedisServer redis;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private TestServices() {
  }

  public static synchronized String newDatabase() {
    start();
    try {
      return postgres.database("test_" + DATABASES.incrementAndGet());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static synchronized String redisUrl() {
    start();
    return redis.url();
  }

  private static void start() {
    if (postgres != null) {
      return;
    }
    try {
      Path root = Files.createTempDirectory("parley-test-services");
      postgres = EmbeddedPostgresServer.start(root.resolve("postgres"));
      redis = EmbeddedRedisServer.start(root.resolve("redis"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        redis.close();
        postgres.close();
      } catch (IOException ignored) {
        // the JVM is going away
      }
    }));
  }
}
