package dev.parley;

import dev.parley.config.Ports;
import dev.parley.support.Api;
import dev.parley.support.Api.Session;
import dev.parley.support.Nginx;
import dev.parley.support.NodeProcess;
import dev.parley.support.Sse;
import dev.parley.support.TestServices;
import dev.parley.support.Ws;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Docker topology without Docker: docker/nginx.conf as shipped (only the upstream addresses and the listen
 * port changed) in front of three node processes in one cluster, as compose.yml runs them.
 */
@Timeout(240)
@ExtendWith(NodeProcess.LogsOnFailure.class)
class NginxIT {

  private static final String PARTNER = "https://partner.example";
  private static final String ADMIN = "nginx-admin@example.org";
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static Nginx nginx;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Nginx.available(), "no nginx here");
    String database = TestServices.newDatabase();
    int[] clusterPorts = {Ports.free(), Ports.free(), Ports.free()};
    int[] httpPorts = {Ports.free(), Ports.free(), Ports.free()};
    String seeds = "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1] + ",127.0.0.1:" + clusterPorts[2];
    for (int i = 0; i < 3; i++) {
      Map<String, String> env = NodeProcess.clusterEnv("parley-" + (i + 1), httpPorts[i], clusterPorts[i], seeds, database);
      env.put("TRUST_FORWARDED", "true");
      // Cross-origin access for one partner site only: the web client's own origin must still pass.
      env.put("CORS_ORIGINS", PARTNER);
      env.put("WS_ORIGINS", PARTNER);
      env.put("ADMIN_EMAILS", ADMIN);
      env.put("HTTP_INSTANCES", "1");
      nodes.add(NodeProcess.start(env));
    }
    for (int i = 0; i < 3; i++) {
      nodes.get(i).awaitLog("listening on http://127.0.0.1:" + httpPorts[i], 120);
    }
    port = Ports.free();
    Path config = Nginx.configFor(port, httpPorts);
    Nginx.ProcessResult check = Nginx.check(config);
    assertEquals(0, check.exitCode(), check.output());
    nginx = Nginx.start(config);
    awaitListening(port);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (nginx != null) {
      nginx.close();
    }
    for (NodeProcess node : nodes) {
      node.close();
    }
  }

  @Test
  void theShippedConfigurationParses() throws Exception {
    Nginx.ProcessResult check = Nginx.check(Nginx.configFor(Ports.free(), 1, 2, 3));
    assertEquals(0, check.exitCode(), check.output());
    assertTrue(check.output().contains("syntax is ok"), check.output());
  }

  @Test
  void aConversationCrossesThreeNodesThroughRoundRobin() throws Exception {
    Session alice;
    Session bob;
    Session carol;
    String room;
    try (Api api = new Api(port)) {
      alice = api.register("alice");
      bob = api.register("bob");
      carol = api.register("carol");
      room = api.conversation(alice, "behind nginx");
      for (Session member : List.of(bob, carol)) {
        assertEquals(201, api.post("/api/conversations/" + room + "/members", alice.token(),
          new JsonObject().put("userId", member.userId())).status());
      }
    }

    // Plain round-robin: sockets opened one after another land on the nodes in turn. Keep one per node.
    Map<String, Ws> byNode = new HashMap<>();
    List<Ws> opened = new ArrayList<>();
    List<Session> people = List.of(alice, bob, carol);
    try {
      for (int attempt = 0; byNode.size() < 3 && attempt < 12; attempt++) {
        Session who = people.get(byNode.size());
        Ws ws = Ws.connect(port, "/ws/chat?token=" + who.token());
        opened.add(ws);
        String node = ws.await("connection").getString("node");
        byNode.putIfAbsent(node, ws);
        if (byNode.get(node) != ws) {
          ws.close();
        }
      }
      assertEquals(3, byNode.size(), "three sockets on three nodes: " + byNode.keySet());
      List<Ws> sockets = new ArrayList<>(byNode.values());
      for (Ws ws : sockets) {
        ws.join(room);
      }

      // Each one speaks; every other one, on another node, hears it with the seq it was acknowledged with.
      for (int speaker = 0; speaker < 3; speaker++) {
        JsonObject ack = sockets.get(speaker).say(room, "hello from socket " + speaker, "m-" + speaker);
        assertEquals("ack", ack.getString("type"), ack.encode());
        long seq = ack.getLong("seq");
        for (Ws listener : sockets) {
          JsonObject heard = listener.await("message", m -> m.getLong("seq") == seq);
          assertEquals("hello from socket " + speaker, heard.getString("content"));
        }
      }

      // Server-Sent Events through the same proxy: nothing buffered, the next message arrives as it is sent.
      try (Sse stream = Sse.open(port, "/api/conversations/" + room + "/events", carol.token(), "3");
           Api api = new Api(port)) {
        assertEquals(201, api.say(bob, room, "through the stream").status());
        Sse.Event event = stream.next();
        while (!"message".equals(event.json().getString("type"))) {
          event = stream.next();
        }
        assertEquals("4", event.id());
        assertEquals("through the stream", event.json().getString("content"));
      }
    } finally {
      opened.forEach(Ws::close);
    }
  }

  @Test
  void behindNginxTheNodesSeeTheRealClientAndTheBrowsersOrigin() throws Exception {
    String own = "http://127.0.0.1:" + port;
    try (Api api = new Api(port)) {
      JsonObject credentials = new JsonObject().put("email", ADMIN).put("password", "correct horse battery");
      String admin = api.post("/api/auth/register", null, credentials).json().getString("token");
      Session dora = api.register("dora");

      // A forged X-Forwarded-For is replaced by the address nginx saw.
      io.vertx.core.MultiMap forged = io.vertx.core.MultiMap.caseInsensitiveMultiMap()
        .add("X-Forwarded-For", "203.0.113.66").add("Content-Type", "application/json");
      assertEquals(401, api.raw(io.vertx.core.http.HttpMethod.POST, "/api/auth/login", null,
        new JsonObject().put("email", dora.email()).put("password", "wrong password").toBuffer(), forged).status());
      JsonObject failed = awaitAudit(api, admin, dora.email());
      assertEquals("127.0.0.1", failed.getString("address"), failed.encode());

      // The page's own origin (the proxy's) passes the nodes' same-origin check; another site does not.
      io.vertx.core.MultiMap fromPage = io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Origin", own)
        .add("Content-Type", "application/json");
      assertEquals(201, api.raw(io.vertx.core.http.HttpMethod.POST, "/api/conversations", "Bearer " + dora.token(),
        new JsonObject().put("title", "from the page").toBuffer(), fromPage).status());
      io.vertx.core.MultiMap fromElsewhere = io.vertx.core.MultiMap.caseInsensitiveMultiMap()
        .add("Origin", "https://evil.example").add("Content-Type", "application/json");
      assertEquals(403, api.raw(io.vertx.core.http.HttpMethod.POST, "/api/conversations", "Bearer " + dora.token(),
        new JsonObject().put("title", "from elsewhere").toBuffer(), fromElsewhere).status());
      assertEquals(403, Ws.refusedStatus(port, "/ws/chat?token=" + dora.token(),
        io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Origin", "https://evil.example")));
      try (Ws ws = Ws.connect(port, "/ws/chat?token=" + dora.token(),
        io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Origin", own), 0)) {
        ws.await("connection");
      }
    }
  }

  /** The failed login of {@code email} in the audit log; entries are written just after the answer. */
  private static JsonObject awaitAudit(Api api, String adminToken, String email) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      for (Object item : api.get("/api/admin/audit?limit=200", adminToken).json().getJsonArray("items")) {
        JsonObject entry = (JsonObject) item;
        if ("login.failed".equals(entry.getString("action")) && email.equals(entry.getString("actorEmail"))) {
          return entry;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no failed login of " + email + " in the audit log");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** nginx says nothing when it is ready: try to connect, every 20 ms, for at most 10 s. */
  private static void awaitListening(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket probe = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        TimeUnit.MILLISECONDS.sleep(20);
      }
    }
    throw new AssertionError("nginx does not listen on " + port + ": " + nginx.log());
  }
}
