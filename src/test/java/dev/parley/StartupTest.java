package dev.parley;

import dev.parley.config.ConfigException;
import dev.parley.config.Ports;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node that cannot do its job does not pretend to start, and says which setting to look at. */
class StartupTest {

  @Test
  void anInvalidValueFailsTheStartNamingTheKey() {
    assertFailsNaming(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()).put("MAX_BODY_BYTES", "lots"),
      "MAX_BODY_BYTES");
  }

  @Test
  void aPortInUseFailsTheStart() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      ConfigException error = assertFailsNaming(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
        .put("PORT", taken.getLocalPort()), "PORT");
      assertTrue(error.getMessage().contains(String.valueOf(taken.getLocalPort())), error.getMessage());
    }
  }

  @Test
  void anUnreachableRedisFailsTheStart() throws Exception {
    assertFailsNaming(Nodes.config(TestServices.newDatabase(), "redis://127.0.0.1:" + Ports.free()), "REDIS_URL");
  }

  @Test
  void anUnreachableDatabaseFailsTheStart() throws Exception {
    assertFailsNaming(Nodes.config("postgres://postgres@127.0.0.1:" + Ports.free() + "/nowhere",
      TestServices.redisUrl()), "DATABASE_URL");
  }

  private static ConfigException assertFailsNaming(JsonObject config, String key) {
    ConfigException error = assertThrows(ConfigException.class, () -> Parley.start(config).await());
    assertTrue(error.getMessage().contains(key), error.getMessage());
    return error;
  }
}
