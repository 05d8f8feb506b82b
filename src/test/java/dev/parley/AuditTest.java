package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Nodes;
import dev.parley.support.TestServices;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit log: every sensitive operation leaves an entry (who, what, when, from where); only admins read it. */
@Timeout(60)
class AuditTest {

  private static final String ADMIN = "auditor@example.org";
  private static String database;
  private static Parley node;
  private static Api api;

  @BeforeAll
  static void start() {
    database = TestServices.newDatabase();
    node = Nodes.start(Nodes.config(database, TestServices.redisUrl()).put("ADMIN_EMAILS", ADMIN));
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  /** The log as the admin sees it. Entries are written just after each operation answers: poll until all are. */
  private static JsonArray awaitEntries(String token, Set<String> actions) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      JsonArray items = api.get("/api/admin/audit?limit=200", token).json().getJsonArray("items");
      Set<String> seen = new HashSet<>();
      items.forEach(item -> seen.add(((JsonObject) item).getString("action")));
      if (seen.containsAll(actions) || System.nanoTime() > deadline) {
        assertTrue(seen.containsAll(actions), "missing " + actions + " in " + seen);
        return items;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** The admin's token: the account is registered by whichever test runs first. */
  private static synchronized String adminToken() {
    JsonObject credentials = new JsonObject().put("email", ADMIN).put("password", "correct horse battery");
    Reply registered = api.post("/api/auth/register", null, credentials);
    return (registered.status() == 201 ? registered : api.post("/api/auth/login", null, credentials)).json()
      .getString("token");
  }

  @Test
  void sensitiveOperationsAreLoggedAndOnlyAdminsReadTheLog() throws Exception {
    String adminToken = adminToken();
    Session owner = api.register("owner");
    Session guest = api.register("guest");
    assertEquals(401, api.post("/api/auth/login", null, new JsonObject().put("email", owner.email())
      .put("password", "wrong password")).status());
    assertEquals(200, api.post("/api/auth/login", null, new JsonObject().put("email", owner.email())
      .put("password", "correct horse battery")).status());
    String room = api.conversation(owner, "audited");
    api.post("/api/conversations/" + room + "/members", owner.token(), new JsonObject().put("userId", guest.userId()));
    String message = api.say(owner, room, "to be deleted").json().getString("id");
    assertEquals(204, api.delete("/api/conversations/" + room + "/messages/" + message, owner.token()).status());
    String document = api.upload("/api/documents", owner.token(), "notes.txt",
      "some notes".getBytes(StandardCharsets.UTF_8), Map.of()).json().getString("id");
    assertEquals(204, api.delete("/api/documents/" + document, owner.token()).status());
    assertEquals(204, api.delete("/api/conversations/" + room + "/members/" + guest.userId(), owner.token()).status());
    assertEquals(204, api.delete("/api/conversations/" + room, owner.token()).status());

    JsonArray entries = awaitEntries(adminToken, Set.of("account.registered", "role.granted", "login.failed", "login",
      "member.added", "message.deleted", "document.uploaded", "document.deleted", "member.removed",
      "conversation.deleted"));
    JsonObject failed = entries.stream().map(JsonObject.class::cast)
      .filter(e -> "login.failed".equals(e.getString("action"))).findFirst().orElseThrow();
    assertEquals(owner.email(), failed.getString("actorEmail"));
    assertEquals("127.0.0.1", failed.getString("address"));
    assertTrue(failed.getString("at") != null);
    JsonObject deleted = entries.stream().map(JsonObject.class::cast)
      .filter(e -> "conversation.deleted".equals(e.getString("action"))).findFirst().orElseThrow();
    assertEquals(owner.userId(), deleted.getString("actorId"));
    assertEquals(room, deleted.getString("targetId"));
    List<Long> ids = entries.stream().map(e -> ((JsonObject) e).getLong("id")).toList();
    for (int i = 1; i < ids.size(); i++) {
      assertTrue(ids.get(i) < ids.get(i - 1), "newest first");
    }
    // Paged: two at a time, following nextBefore.
    JsonObject first = api.get("/api/admin/audit?limit=2", adminToken).json();
    assertEquals(2, first.getJsonArray("items").size());
    JsonObject second = api.get("/api/admin/audit?limit=2&before=" + first.getLong("nextBefore"), adminToken).json();
    assertTrue(second.getJsonArray("items").getJsonObject(0).getLong("id") < first.getLong("nextBefore") + 1);

    Reply refused = api.get("/api/admin/audit", owner.token());
    assertEquals(403, refused.status(), refused.text());
    assertEquals(401, api.get("/api/admin/audit", null).status());
  }

  @Test
  void behindATrustedProxyTheAddressIsTheForwardedClients() throws Exception {
    String adminToken = adminToken();
    Session spoofer = api.register("spoofer");
    io.vertx.core.MultiMap forwarded = io.vertx.core.MultiMap.caseInsensitiveMultiMap()
      .add("X-Forwarded-For", "203.0.113.7").add("Content-Type", "application/json");
    Buffer wrong = new JsonObject().put("email", spoofer.email()).put("password", "wrong password").toBuffer();
    // This node trusts no proxy: the header is ignored, the address is the connection's.
    api.raw(io.vertx.core.http.HttpMethod.POST, "/api/auth/login", null, wrong, forwarded);

    Parley proxied = Nodes.start(Nodes.config(database, TestServices.redisUrl()).put("ADMIN_EMAILS", ADMIN)
      .put("TRUST_FORWARDED", true));
    try (Api behindProxy = new Api(proxied.httpPort())) {
      behindProxy.raw(io.vertx.core.http.HttpMethod.POST, "/api/auth/login", null, wrong, forwarded);
    } finally {
      proxied.stop().await();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> addresses;
    do {
      addresses = api.get("/api/admin/audit?limit=200", adminToken).json().getJsonArray("items").stream()
        .map(JsonObject.class::cast)
        .filter(e -> "login.failed".equals(e.getString("action")) && spoofer.email().equals(e.getString("actorEmail")))
        .map(e -> e.getString("address")).toList();
      TimeUnit.MILLISECONDS.sleep(addresses.size() < 2 ? 20 : 0);
    } while (addresses.size() < 2 && System.nanoTime() < deadline);
    assertEquals(Set.of("127.0.0.1", "203.0.113.7"), Set.copyOf(addresses), addresses.toString());
  }
}
