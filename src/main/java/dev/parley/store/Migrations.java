package dev.parley.store;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned migrations of {@code src/main/resources/db/migration} with Flyway over JDBC.
 * Safe with several nodes starting at once: Flyway serialises them with a PostgreSQL advisory lock.
 * Blocking: run it off the event loop.
 */
final class Migrations {

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {
  }

  /** @param searchLanguage the text search configuration of the knowledge base (placeholder of V3) */
  static void apply(PgConnectOptions database, String searchLanguage) {
    String jdbcUrl = "jdbc:postgresql://" + database.getHost() + ":" + database.getPort() + "/" + database.getDatabase()
      + (database.getSslMode() == null ? "" : "?sslmode=" + database.getSslMode().name().toLowerCase().replace('_', '-'));
    MigrateResult result = Flyway.configure()
      .dataSource(jdbcUrl, database.getUser(), database.getPassword())
      .locations("classpath:db/migration")
      .placeholders(java.util.Map.of("searchLanguage", searchLanguage))
      .load()
      .migrate();
    if (result.migrationsExecuted > 0) {
      LOG.info("applied {} database migration(s), schema now at version {}", result.migrationsExecuted, result.targetSchemaVersion);
    }
  }
}
