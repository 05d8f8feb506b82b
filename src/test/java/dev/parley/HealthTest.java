package dev.parley;

import dev.parley.config.EmbeddedRedisServer;
import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;

class HealthTest {

  @Test
  void livenessAndReadinessReportTheNodeAndItsBackends() {
    Parley node = Nodes.start();
    try (Api api = new Api(node.httpPort())) {
      Reply health = api.get("/health", null);
      assertEquals(200, health.status(), health.text());
      assertEquals("UP", health.json().getString("status"));

      Reply ready = api.get("/ready", null);
      assertEquals(200, ready.status(), ready.text());
      assertEquals("UP", check(ready, "postgresql").getString("status"));
      assertEquals("UP", check(ready, "redis").getString("status"));
    } finally {
      node.stop().await();
    }
  }

  @Test
  void aNodeWhoseRedisDiesIsNotReadyButKeepsServing() throws Exception {
    EmbeddedRedisServer redis = EmbeddedRedisServer.start(TestServices.tempDir("redis"));
    Parley node = Nodes.start(Nodes.config(TestServices.newDatabase(), redis.url()));
    try (Api api = new Api(node.httpPort())) {
      assertEquals(200, api.get("/ready", null).status());
      redis.close();

      Reply ready = api.get("/ready", null);
      assertEquals(503, ready.status(), ready.text());
      assertEquals("DOWN", check(ready, "redis").getString("status"));
      assertEquals("UP", check(ready, "postgresql").getString("status"));
      assertEquals(200, api.get("/health", null).status(), "alive, only not ready");
      assertEquals(201, api.post("/api/auth/register", null, new JsonObject().put("email", "still@example.org")
        .put("password", "works without redis")).status());
    } finally {
      node.stop().await();
    }
  }

  private static JsonObject check(Reply reply, String id) {
    return reply.json().getJsonArray("checks").stream().map(JsonObject.class::cast)
      .filter(check -> id.equals(check.getString("id"))).findFirst()
      .orElseThrow(() -> new AssertionError("no check " + id + " in " + reply.text()));
  }
}
