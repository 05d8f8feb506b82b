package dev.parley;

import dev.parley.config.EmbeddedPostgresServer;
import dev.parley.config.Ports;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A row of the fault suite (issue 7): PostgreSQL is stopped for real while a client keeps sending, then started
 * again on the same port. Nothing is acknowledged that was not stored; while the database is down each message
 * gets a retryable UNAVAILABLE within 2 s; the service is back within 5 s of the restart. The outage lasts
 * {@code -Dparley.fault.outageSeconds} (5 by default here; the fault suite's figure is 15).
 */
@Timeout(120)
class PostgresOutageTest {

  private static final long OUTAGE_SECONDS = Long.getLong("parley.fault.outageSeconds", 5);

  @Test
  void whilePostgresqlIsDownNothingIsFalselyAcknowledgedAndServiceReturns() throws Exception {
    Path data = TestServices.tempDir("pg-outage");
    int port = Ports.free();
    EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(data, false, port);
    String database = postgres.database("outage");
    // One user sends ten messages a second here, more than the default limit allows over a long outage.
    Parley node = Nodes.start(Nodes.config(database, TestServices.redisUrl()).put("RATE_LIMIT_MESSAGES_PER_MIN", 10_000));
    List<String> acked = new ArrayList<>();
    try (Api api = new Api(node.httpPort())) {
      Session alice = api.register("alice");
      String room = api.conversation(alice, "through an outage");
      try (Ws ws = Ws.open(node.httpPort(), alice.token()).join(room)) {
        int n = 0;
        for (; n < 10; n++) {
          JsonObject reply = ws.say(room, "before " + n, "m-" + n);
          assertEquals("ack", reply.getString("type"), reply.encode());
          acked.add("m-" + n);
        }

        postgres.close();
        long stopped = System.nanoTime();
        long firstError = -1;
        int acksWhileDown = 0;
        while (System.nanoTime() - stopped < TimeUnit.SECONDS.toNanos(OUTAGE_SECONDS)) {
          long sent = System.nanoTime();
          JsonObject reply = ws.say(room, "during " + n, "m-" + n);
          if ("ack".equals(reply.getString("type"))) {
            acksWhileDown++;
            acked.add("m-" + n);
          } else {
            assertEquals("UNAVAILABLE", reply.getString("code"), reply.encode());
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertTrue(took < 2_000, "the refusal took " + took + " ms");
            if (firstError < 0) {
              firstError = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
            }
          }
          n++;
          TimeUnit.MILLISECONDS.sleep(100); // the client's own pace: one message every 100 ms
        }
        assertEquals(0, acksWhileDown, "acknowledged while PostgreSQL was down");
        assertTrue(firstError >= 0 && firstError < 2_000, "first retryable error after " + firstError + " ms");

        postgres = EmbeddedPostgresServer.start(data, false, port);
        long restarted = System.nanoTime();
        long backAfter = -1;
        while (backAfter < 0) {
          JsonObject reply = ws.say(room, "after " + n, "m-" + n);
          if ("ack".equals(reply.getString("type"))) {
            acked.add("m-" + n);
            backAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted);
          } else {
            assertTrue(System.nanoTime() - restarted < TimeUnit.SECONDS.toNanos(5),
              "still refused 5 s after the restart: " + reply.encode());
            TimeUnit.MILLISECONDS.sleep(100);
          }
          n++;
        }
        System.out.printf("| PostgreSQL stopped %d s | 0 false acks | first retryable error %d ms after the stop "
          + "| acknowledged again %d ms after the restart |%n", OUTAGE_SECONDS, firstError, backAfter);
      }

      // Everything acknowledged is stored, once, in order and without a gap.
      JsonObject page = api.get("/api/conversations/" + room + "/messages?limit=200", alice.token()).json();
      List<String> stored = new ArrayList<>();
      long expectedSeq = 1;
      for (Object item : page.getJsonArray("messages")) {
        JsonObject message = (JsonObject) item;
        assertEquals(expectedSeq++, message.getLong("seq"));
        stored.add(message.getString("clientMsgId"));
      }
      Set<String> storedSet = new HashSet<>(stored);
      assertEquals(stored.size(), storedSet.size(), "no message stored twice");
      assertTrue(storedSet.containsAll(acked), "every acknowledged message is stored: " + acked + " vs " + stored);
    } finally {
      node.stop().await();
      postgres.close();
    }
  }
}
