package dev.parley;

import dev.parley.config.ConfigException;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code TRANSPORT}: the rest of the suite runs on {@code auto} (epoll here); each transport carries a message
 * from one socket to another, and {@code auto} takes epoll where it loads.
 */
@Timeout(60)
class TransportTest {

  @Test
  void nioCarriesARoomsMessages() {
    carriesARoomsMessages("nio");
  }

  @Test
  void epollCarriesARoomsMessages() {
    carriesARoomsMessages("epoll");
  }

  @Test
  void ioUringCarriesARoomsMessages() {
    // As in production, without Netty's io_uring assertions: one of them is wrong and, with assertions on,
    // ends the event loop (netty/netty#16307). Takes effect because no io_uring event loop has run in this JVM.
    io.netty.channel.Channel.class.getClassLoader().setPackageAssertionStatus("io.netty.channel.uring", false);
    carriesARoomsMessages("io_uring");
  }

  private static void carriesARoomsMessages(String name) {
    Transport wanted = named(name);
    assumeTrue(wanted != null && wanted.available(), name + " is not available on this machine");
    Parley node = Nodes.start(Nodes.config(TestServices.newDatabase(), TestServices.redisUrl()).put("TRANSPORT", name));
    try (Api api = new Api(node.httpPort())) {
      assertEquals(expectedClass(name), ((VertxInternal) node.vertx()).transport().getClass().getSimpleName());
      Session ann = api.register("ann");
      Session ben = api.register("ben");
      String room = api.conversation(ann, "room");
      assertEquals(201, api.post("/api/conversations/" + room + "/members", ann.token(),
        new JsonObject().put("userId", ben.userId())).status());
      try (Ws a = Ws.open(node.httpPort(), ann.token()); Ws b = Ws.open(node.httpPort(), ben.token())) {
        a.join(room);
        b.join(room);
        assertEquals("ack", a.say(room, "over " + name, "t-1").getString("type"));
        assertEquals("over " + name, b.await("message").getString("content"));
      }
    } finally {
      node.stop().await();
    }
  }

  @Test
  void autoTakesEpollThenNio() {
    String picked = Parley.transport("auto").name();
    if (Transport.EPOLL != null && Transport.EPOLL.available()) {
      assertEquals("epoll", picked);
    } else {
      assertEquals("nio", picked);
    }
  }

  @Test
  void aTransportNamedOutrightMustBeAvailable() {
    for (String name : new String[] {"io_uring", "epoll"}) {
      Transport transport = named(name);
      if (transport != null && transport.available()) {
        assertEquals(name, Parley.transport(name).name());
      } else {
        ConfigException refused = assertThrows(ConfigException.class, () -> Parley.transport(name));
        assertTrue(refused.getMessage().contains("TRANSPORT"), refused.getMessage());
      }
    }
  }

  /** Vert.x's transport of that name; null for a native one whose classes do not load. */
  private static Transport named(String name) {
    return switch (name) {
      case "nio" -> Transport.NIO;
      case "epoll" -> Transport.EPOLL;
      default -> Transport.IO_URING;
    };
  }

  private static String expectedClass(String name) {
    return switch (name) {
      case "nio" -> "NioTransport";
      case "epoll" -> "EpollTransport";
      default -> "IoUringTransport";
    };
  }
}
