package dev.parley;

import dev.parley.config.ConfigException;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node that cannot do its job does not pretend to start. */
class StartupTest {

  @Test
  void anInvalidValueFailsTheStartNamingTheKey() {
    JsonObject config = Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()).put("MAX_BODY_BYTES", "lots");
    Throwable failure = assertThrows(Throwable.class, () -> Parley.start(config).await());
    assertInstanceOf(ConfigException.class, failure);
    assertTrue(failure.getMessage().contains("MAX_BODY_BYTES"), failure.getMessage());
  }

  @Test
  void aPortInUseFailsTheStart() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      JsonObject config = Nodes.config(TestServices.newDatabase(), TestServices.redisUrl())
        .put("PORT", taken.getLocalPort());
      assertThrows(Throwable.class, () -> Parley.start(config).await());
    }
  }

  @Test
  void anUnreachableRedisFailsTheStart() throws Exception {
    int nothingThere;
    try (ServerSocket socket = new ServerSocket(0)) {
      nothingThere = socket.getLocalPort();
    }
    JsonObject config = Nodes.config(TestServices.newDatabase(), "redis://127.0.0.1:" + nothingThere);
    assertThrows(Throwable.class, () -> Parley.start(config).await());
  }
}
