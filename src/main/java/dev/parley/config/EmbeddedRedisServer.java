package dev.parley.config;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real redis-server (the binary shipped in a Maven Central jar) on a free loopback port. Parley keeps
 * only short-lived state in Redis (presence, rate limits), so it is not persisted. Whoever starts it stops it
 * ({@link #close}), see {@link ShutdownHooks}. Blocking.
 */
public final class EmbeddedRedisServer implements AutoCloseable {

  private final RedisServer server;
  private final int port;

  private EmbeddedRedisServer(RedisServer server, int port) {
    this.server = server;
    this.port = port;
  }

  public static EmbeddedRedisServer start(Path workDirectory) throws IOException {
    return start(workDirectory, Ports.free());
  }

  /** On a given port: a restart on the same port keeps {@link #url()} valid. */
  public static EmbeddedRedisServer start(Path workDirectory, int port) throws IOException {
    Files.createDirectories(workDirectory);
    RedisServer server = ShutdownHooks.adopt(() -> {
      RedisServer redis = RedisServer.newRedisServer()
        .bind("127.0.0.1")
        .port(port)
        .setting("dir " + workDirectory.toAbsolutePath())
        .setting("save \"\"")
        .setting("appendonly no")
        .setting("protected-mode yes")
        .build();
      redis.start();
      return redis;
    });
    return new EmbeddedRedisServer(server, port);
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  @Override
  public void close() throws IOException {
    server.stop();
  }
}
