package dev.parley.faults;

import dev.parley.Parley;

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
 * gets a retryable UNAVAILABLE within 2 s; the service is back within 5 s of the restart. The outage lasts 15 s in
 * the full suite, 5 s in {@code mvn verify}.
 */
@Timeout(120)
class PostgresOutageTest {

  private static final long OUTAGE_SECONDS = FaultRow.scaled(15, 5);

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
        long slowestRefusal = 0;
        int acksWhileDown = 0;
        while (System.nanoTime() - stopped < TimeUnit.SECONDS.toNanos(OUTAGE_SECONDS)) {
          long sent = System.nanoTime();
          JsonObject reply = ws.say(room, "during " + n, "m-" + n);
          if ("ack".equals(reply.getString("type"))) {
            acksWhileDown++;
            acked.add("m-" + n);
          } else {
            assertEquals("UNAVAILABLE", reply.getString("code"), reply.encode());
            slowestRefusal = Math.max(slowestRefusal, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent));
            if (firstError < 0) {
              firstError = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
            }
          }
          n++;
          TimeUnit.MILLISECONDS.sleep(100); // the client's own pace: one message every 100 ms
        }

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

        // Everything acknowledged is stored, once, in order and without a gap.
        List<String> stored = new ArrayList<>();
        long expectedSeq = 1;
        for (JsonObject message : Rooms.stored(api, room, alice.token())) {
          assertEquals(expectedSeq++, message.getLong("seq"));
          stored.add(message.getString("clientMsgId"));
        }
        Set<String> storedSet = new HashSet<>(stored);
        FaultRow.of("PostgreSQL stopped " + OUTAGE_SECONDS + " s under a client sending 10 msg/s")
          .figure(acksWhileDown + " acknowledged while it was down", "0 false acks", acksWhileDown == 0)
          .figure("every acknowledged message stored once: " + (storedSet.size() == stored.size()
            && storedSet.containsAll(acked)), "true", storedSet.size() == stored.size() && storedSet.containsAll(acked))
          .figure("the first retryable error " + firstError + " ms after the stop, each within " + slowestRefusal
            + " ms", "≤ 2000 ms", firstError >= 0 && firstError <= 2_000 && slowestRefusal <= 2_000)
          .figure("acknowledged again " + backAfter + " ms after the restart", "≤ 5000 ms", backAfter <= 5_000)
          .report();
      }
    } finally {
      node.stop().await();
      postgres.close();
    }
  }
}
