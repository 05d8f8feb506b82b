package dev.parley.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Keeps the planner's statistics of the tables that grow with use current while they are young.
 *
 * <p>PostgreSQL keeps a generic plan per prepared statement and connection, costed with the statistics of the
 * moment it was made, until something (an {@code ANALYZE}) invalidates it. Made while {@code messages} was nearly
 * empty, the group commit's duplicate check is a hash join over the whole table instead of one index lookup per
 * key, and it stays so as the table grows, until autovacuum's next visit: once a minute at most by default
 * ({@code autovacuum_naptime}), long enough for a burst to pay for it on every batch (README, Performance). A new
 * deployment's first minute, every test's database and a benchmark from scratch are all young.
 *
 * <p>So every {@link #CHECK_MS} the store compares each table's live rows (PostgreSQL's running count) with the
 * count of its last {@code ANALYZE}, and analyzes a table that has doubled since, once it holds
 * {@link #MIN_ROWS}. A table doubles a handful of times while it is young and almost never once it is large, where
 * autovacuum's own schedule is right. {@code SKIP_LOCKED}: a table autovacuum is working on is left to it. Tables
 * the node's role may not analyze (it neither owns them nor the database, and is no superuser) are left to
 * autovacuum.
 */
final class Statistics {

  static final long CHECK_MS = 5_000;
  /** Below this, any plan reads little; the first {@code ANALYZE} waits for a table worth planning for. */
  static final long MIN_ROWS = 1_000;
  /** The tables the hot path reads by key, each named once: {@code ANALYZE} takes no parameters. */
  private static final List<String> TABLES = List.of("messages", "conversations", "conversation_members", "users");
  /**
   * The tables' live rows and the rows at their last {@code ANALYZE}, of those this role may analyze (their owner,
   * the database's, or a superuser).
   */
  private static final String COUNTS = "SELECT c.relname, pg_stat_get_live_tuples(c.oid) AS live, "
    + "c.reltuples::float8 AS reltuples FROM pg_class c "
    + "WHERE c.relname = ANY($1::text[]) AND c.relnamespace = to_regnamespace(current_schema()) "
    + "AND (pg_has_role(c.relowner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
    + "OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))";
  private static final Logger LOG = LoggerFactory.getLogger(Statistics.class);

  private final Vertx vertx;
  private final Pool pool;
  /** Per table, the row count as of the last {@code ANALYZE} done here (PostgreSQL's estimate may be lower). */
  private final Map<String, Double> analyzedAt = new HashMap<>();
  private long timer = -1;
  private boolean checking;

  Statistics(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  void start() {
    timer = vertx.setPeriodic(CHECK_MS, tick -> {
      if (!checking) {
        checking = true;
        check().onComplete(done -> {
          checking = false;
          if (done.failed()) {
            // The database may be away (an outage is reported by the requests that fail); the next tick retries.
            LOG.debug("statistics check failed: {}", done.cause().getMessage());
          }
        });
      }
    });
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  /** Analyzes, one after the other, the tables that have doubled since their last {@code ANALYZE}. */
  private Future<Void> check() {
    return pool.preparedQuery(COUNTS).execute(Tuple.tuple().addValue(TABLES.toArray(String[]::new))).compose(rows -> {
      Future<Void> chain = Future.succeededFuture();
      for (Row row : rows) {
        String table = row.getString("relname");
        long live = row.getLong("live");
        // reltuples is -1 for a table never analyzed.
        double known = Math.max(row.getDouble("reltuples"), analyzedAt.getOrDefault(table, -1.0));
        if (live >= MIN_ROWS && live >= 2 * known) {
          chain = chain.compose(previous -> analyze(table, known, live));
        }
      }
      return chain;
    });
  }

  private Future<Void> analyze(String table, double known, long live) {
    long started = System.nanoTime();
    return pool.query("ANALYZE (SKIP_LOCKED) " + table).execute().map(done -> {
      analyzedAt.put(table, (double) live);
      LOG.info("analyzed {}: {} rows, {} ({} ms); plans made for it before are made again", table, live,
        known < 0 ? "never analyzed before" : String.format(Locale.ROOT, "%.0f at its last ANALYZE", known),
        (System.nanoTime() - started) / 1_000_000);
      return null;
    });
  }
}
