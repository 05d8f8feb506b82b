package dev.parley;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.StoreClient;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The store keeps the planner's statistics current while its tables are young: a generic plan PostgreSQL made for
 * a nearly empty {@code messages} table would otherwise read the whole table on every group-commit batch as it
 * grows, until autovacuum's next visit.
 */
@Timeout(120)
class StatisticsTest {

  private static Parley node;
  private static Api api;
  private static StoreClient store;
  private static Vertx vertx;
  private static Pool database;

  @BeforeAll
  static void start() {
    String url = TestServices.newDatabase();
    node = Nodes.start(Nodes.config(url, TestServices.redisUrl()));
    api = new Api(node.httpPort());
    store = new StoreClient(node.vertx(), true, 30_000);
    // A Vert.x of its own: the node's registers its pools' meters, and a second pool there would clash with them.
    vertx = Vertx.vertx();
    database = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(url)).using(vertx).build();
  }

  @AfterAll
  static void stop() {
    database.close().await();
    vertx.close().await();
    api.close();
    node.stop().await();
  }

  @Test
  void aTableThatGrewFromEmptyIsReadByKeyAgainWithinSeconds() throws Exception {
    // Autovacuum would analyze the table itself within a minute or so: this test is about the store doing it.
    database.query("ALTER TABLE messages SET (autovacuum_enabled = off)").execute().await();
    Session owner = api.register("owner");
    String room = api.conversation(owner, "growing");
    // Plans made while the table is nearly empty: after five executions PostgreSQL may keep a generic one.
    for (int i = 0; i < 40; i++) {
      append(room, owner, "warm-" + i).await();
    }
    // The table grows past them: 20,000 messages, in bursts that group commit writes 500 at a time.
    for (int burst = 0; burst < 20; burst++) {
      List<Future<?>> sent = new ArrayList<>();
      for (int i = 0; i < 1_000; i++) {
        sent.add(append(room, owner, "grown-" + burst + "-" + i));
      }
      Future.all(sent).await();
    }
    // A batch's duplicate check now looks its keys up in the index: none reads the table whole. Until the store
    // has analyzed the grown table, the generic plan from the start scans all of it on every batch.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    int round = 0;
    long[] last = null;
    while (System.nanoTime() < deadline) {
      long[] before = scans();
      // A backend reports its counts at the end of a transaction, at most every half second or second (by
      // version): of batches spread over a second and a half, the first are counted.
      for (int i = 0; i < 15; i++) {
        append(room, owner, "probe-" + round + "-" + i).await();
        TimeUnit.MILLISECONDS.sleep(100);
      }
      round++;
      long[] after = scans();
      last = new long[] {after[0] - before[0], after[1] - before[1]};
      if (last[0] + last[1] >= 5 && last[0] == 0) {
        return;
      }
    }
    fail("batches after the table grew to 20,000 messages still read it whole: " + last[0] + " whole-table scans, "
      + last[1] + " index scans, in the last 15 batches counted");
  }

  private static Future<?> append(String room, Session sender, String clientMsgId) {
    return store.append(room, sender.userId(), ChatMessage.ROLE_USER, "hello", new JsonObject(), clientMsgId);
  }

  /** PostgreSQL's counts of whole-table and index scans of {@code messages}. */
  private static long[] scans() {
    Row row = database.query("SELECT seq_scan, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables "
      + "WHERE relname = 'messages'").execute().await().iterator().next();
    return new long[] {row.getLong("seq_scan"), row.getLong("idx_scan")};
  }
}
