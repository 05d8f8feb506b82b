package dev.parley.config;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL server (binaries from Maven Central) for the one-command run and for tests. Its data
 * directory is kept between starts, so data survives a restart. Whoever starts it stops it ({@link #close}):
 * the library's own shutdown hook is removed, see {@link ShutdownHooks}. Blocking: call it off the event loop.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
  public static final String USER = "postgres";

  private final EmbeddedPostgres postgres;

  static {
    tidyDistributionProbe();
  }

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts PostgreSQL on a free loopback port with its data in {@code dataDirectory}, keeping existing data.
   *
   * @param durable true for a node's data: every commit is flushed to disk, as in any PostgreSQL. The library's
   *                defaults (no fsync, asynchronous commit) are fast but can lose or corrupt data in a crash,
   *                so only throw-away test databases use them.
   */
  public static EmbeddedPostgresServer start(Path dataDirectory, boolean durable) throws IOException {
    return start(dataDirectory, durable, 0);
  }

  /** @param port the port to listen on, 0 for a free one (a restart on the same port keeps URLs valid) */
  public static EmbeddedPostgresServer start(Path dataDirectory, boolean durable, int port) throws IOException {
    Files.createDirectories(dataDirectory);
    EmbeddedPostgres postgres = ShutdownHooks.adopt(() -> {
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(dataDirectory)
        .setCleanDataDirectory(false)
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("max_connections", "200");
      if (port > 0) {
        builder.setPort(port);
      }
      if (durable) {
        // Still flushed on every commit; but a new 16 MB WAL segment is not zero-filled first. Zero-filling (and
        // flushing) it inside a commit held every writer for half a second on this kind of disk (the benchmark's
        // latency spikes); the segment's blocks are allocated as they are written instead.
        builder.setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on")
          .setServerConfig("wal_init_zero", "off");
      }
      return builder.start();
    });
    LOG.debug("embedded PostgreSQL listening on 127.0.0.1:{} with data in {}", postgres.getPort(), dataDirectory);
    return new EmbeddedPostgresServer(postgres);
  }

  /**
   * The library learns the Linux distribution once per JVM by running a script it copies into the temp directory
   * and never deletes. Run that now, and delete the copy it made.
   */
  private static void tidyDistributionProbe() {
    Path temp = Path.of(System.getProperty("java.io.tmpdir"));
    String pattern = "detect_linux_distribution_*.sh";
    try {
      java.util.Set<Path> before = probes(temp, pattern);
      Class.forName("io.zonky.test.db.postgres.util.LinuxUtils", true, EmbeddedPostgresServer.class.getClassLoader());
      for (Path probe : probes(temp, pattern)) {
        if (!before.contains(probe)) {
          Files.deleteIfExists(probe);
        }
      }
    } catch (IOException | ClassNotFoundException | RuntimeException e) {
      LOG.debug("could not tidy the embedded PostgreSQL's distribution probe", e);
    }
  }

  private static java.util.Set<Path> probes(Path directory, String pattern) throws IOException {
    java.util.Set<Path> found = new java.util.HashSet<>();
    try (java.nio.file.DirectoryStream<Path> matches = Files.newDirectoryStream(directory, pattern)) {
      matches.forEach(found::add);
    }
    return found;
  }

  public int port() {
    return postgres.getPort();
  }

  /** Creates the database if it does not exist yet and returns its {@code postgres://} URL. */
  public String database(String name) throws SQLException {
    try (Connection connection = postgres.getPostgresDatabase().getConnection();
         PreparedStatement exists = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, name);
      try (ResultSet rows = exists.executeQuery()) {
        if (!rows.next()) {
          try (Statement create = connection.createStatement()) {
            create.execute("CREATE DATABASE \"" + name.replace("\"", "") + "\"");
          }
        }
      }
    }
    return "postgres://" + USER + "@127.0.0.1:" + port() + "/" + name;
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
