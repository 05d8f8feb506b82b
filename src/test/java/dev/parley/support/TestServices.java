package dev.parley.support;

import dev.parley.config.EmbeddedPostgresServer;
import dev.parley.config.EmbeddedRedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * One real PostgreSQL and one real Redis for the whole test run, started on first use and stopped when the JVM
 * exits. Each test class takes a database of its own, so classes never see each other's data. Every directory
 * a test needs lives under one root that is deleted when the JVM exits.
 */
public final class TestServices {

  private static final Path ROOT = createRoot();
  private static EmbeddedPostgresServer postgres;
  private static EmbeddedRedisServer redis;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private TestServices() {
  }

  /** A fresh directory, gone after the run. */
  public static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(ROOT, prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path createRoot() {
    try {
      Path root = Files.createTempDirectory("parley-tests");
      Runtime.getRuntime().addShutdownHook(new Thread(TestServices::stopAndClean, "test-services-stop"));
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static synchronized void stopAndClean() {
    try {
      if (redis != null) {
        redis.close();
      }
      if (postgres != null) {
        postgres.close();
      }
    } catch (IOException ignored) {
      // the JVM is going away; the directory is removed all the same
    }
    try (Stream<Path> paths = Files.walk(ROOT)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
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
      postgres = EmbeddedPostgresServer.start(tempDir("postgres"), false);
      redis = EmbeddedRedisServer.start(tempDir("redis"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
