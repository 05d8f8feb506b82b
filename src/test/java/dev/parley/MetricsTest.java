package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /metrics}: Prometheus text, Parley's meters among Vert.x's and the JVM's, moving with the traffic. */
@Timeout(60)
class MetricsTest {

  private static Parley node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()));
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static double value(String metrics, String line) {
    Matcher found = Pattern.compile("(?m)^" + Pattern.quote(line) + " ([0-9.eE+-]+)$").matcher(metrics);
    assertTrue(found.find(), "no " + line + " in:\n" + metrics);
    return Double.parseDouble(found.group(1));
  }

  @Test
  void theMetersAreThereAndMoveWithTheTraffic() {
    Session ann = api.register("ann");
    String id = api.conversation(ann, "metered");
    String before = api.get("/metrics", null).text();
    double stored = value(before, "parley_messages_stored_total");
    try (Ws ws = Ws.open(node.httpPort(), ann.token())) {
      ws.join(id);
      for (int i = 0; i < 3; i++) {
        assertEquals("ack", ws.say(id, "counted " + i, "m-" + i).getString("type"));
        ws.await("message", f -> f.getString("clientMsgId") != null);
      }
      String during = api.get("/metrics", null).text();
      assertEquals(stored + 3, value(during, "parley_messages_stored_total"));
      assertTrue(value(during, "parley_messages_delivered_total") >= 3);
      assertTrue(value(during, "parley_messages_received_total") >= 3);
      assertEquals(1, value(during, "parley_websocket_connections"));
      assertEquals(1, value(during, "parley_rooms_local"));
      assertTrue(value(during, "parley_fanout_latency_seconds_count") >= 3);
      assertTrue(during.contains("parley_store_request_seconds_count{action=\"message.append\",outcome=\"ok\"}"), during);
      assertTrue(during.contains("vertx_http_server_requests_total"), "Vert.x's own meters");
      assertTrue(during.contains("jvm_memory_used_bytes"), "and the JVM's");
      assertTrue(!during.contains(id) && !during.contains(ann.userId()), "no conversation or user in any label");
    }
  }
}
