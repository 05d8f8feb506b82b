package dev.parley;

import dev.parley.support.Api;
import dev.parley.support.Expect;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.Jwts;
import dev.parley.support.Nodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class AuthApiTest {

  private static Parley node;
  private static Api api;

  @BeforeAll
  static void start() {
    node = Nodes.start();
    api = new Api(node.httpPort());
  }

  @AfterAll
  static void stop() {
    api.close();
    node.stop().await();
  }

  private static JsonObject credentials(String email, String password) {
    return new JsonObject().put("email", email).put("password", password);
  }

  @Test
  void registerLoginAndMeReturnTheSameUser() {
    Reply registered = api.post("/api/auth/register", null,
      credentials("Ada@Example.org", "analytical engine").put("displayName", "Ada"));
    assertEquals(201, registered.status(), registered.text());
    JsonObject user = registered.json().getJsonObject("user");
    assertEquals("ada@example.org", user.getString("email"));
    assertEquals("Ada", user.getString("displayName"));
    assertFalse(registered.text().contains("analytical engine"), "the password never comes back");
    assertFalse(user.containsKey("passwordHash"));

    Reply login = api.post("/api/auth/login", null, credentials("ADA@example.org", "analytical engine"));
    assertEquals(200, login.status(), login.text());
    assertEquals(user.getString("id"), login.json().getJsonObject("user").getString("id"));
    assertEquals("Bearer", login.json().getString("tokenType"));
    assertEquals(86_400, login.json().getLong("expiresIn"));

    for (String path : new String[] {"/api/auth/me", "/api/users/me"}) {
      Reply me = api.get(path, login.json().getString("token"));
      assertEquals(200, me.status(), me.text());
      assertEquals(user, me.json());
    }
  }

  @Test
  void registeringAnEmailTwiceIsAConflict() {
    Session first = api.register("twice");
    Reply again = api.post("/api/auth/register", null, credentials(first.email().toUpperCase(), "another password"));
    assertEquals(409, again.status());
    assertEquals("CONFLICT", again.errorCode());
  }

  @Test
  void wrongPasswordAndUnknownEmailAnswerAlike() {
    Session user = api.register("guarded");
    Reply wrong = api.post("/api/auth/login", null, credentials(user.email(), "not the password"));
    Reply unknown = api.post("/api/auth/login", null, credentials("nobody@example.org", "not the password"));
    Reply shortAndWrong = api.post("/api/auth/login", null, credentials(user.email(), "short"));
    assertEquals(401, shortAndWrong.status(), "a wrong password is wrong, whatever its length");
    assertEquals(401, wrong.status());
    assertEquals(401, unknown.status());
    assertEquals(wrong.json(), unknown.json(), "no hint whether the account exists");
    assertEquals("UNAUTHORIZED", wrong.errorCode());
  }

  @Test
  void registrationInputIsValidatedFieldByField() {
    Expect.invalid(api.post("/api/auth/register", null, credentials("not-an-email", "long enough")), "email");
    Expect.invalid(api.post("/api/auth/register", null, credentials("short@example.org", "short")), "password");
    Expect.invalid(api.post("/api/auth/register", null, new JsonObject().put("password", "long enough")), "email");
    Expect.invalid(api.post("/api/auth/register", null, credentials("x@example.org", "long enough")
      .put("displayName", 42)), "displayName");
    Reply malformed = api.raw(HttpMethod.POST, "/api/auth/register", null, Buffer.buffer("{\"email\":"));
    assertEquals(400, malformed.status());
    assertEquals("INVALID_INPUT", malformed.errorCode());
    Reply notAnObject = api.raw(HttpMethod.POST, "/api/auth/register", null, Buffer.buffer("[1,2]"));
    assertEquals(400, notAnObject.status());
    assertEquals("INVALID_INPUT", notAnObject.errorCode());
  }

  @Test
  void invalidRegistrationStoresNothing() {
    Expect.invalid(api.post("/api/auth/register", null, credentials("half@example.org", "short")), "password");
    Reply login = api.post("/api/auth/login", null, credentials("half@example.org", "short but now valid"));
    assertEquals(401, login.status());
    assertEquals(201, api.post("/api/auth/register", null, credentials("half@example.org", "long enough")).status());
  }

  @Test
  void protectedRoutesRejectEveryBadToken() {
    Session user = api.register("victim");
    long inAnHour = System.currentTimeMillis() / 1000 + 3600;
    String otherKey = Jwts.hs256(Jwts.claims(user.userId(), inAnHour), "another-secret-that-is-also-32-bytes-long!");
    String unsigned = Jwts.none(Jwts.claims(user.userId(), inAnHour));
    String expired = Jwts.hs256(Jwts.claims(user.userId(), System.currentTimeMillis() / 1000 - 600), Nodes.SECRET);
    String otherIssuer = Jwts.hs256(Jwts.claims(user.userId(), inAnHour).put("iss", "someone-else"), Nodes.SECRET);
    String otherAudience = Jwts.hs256(Jwts.claims(user.userId(), inAnHour).put("aud", "another-app"), Nodes.SECRET);
    String noExpiry = Jwts.hs256(Jwts.claims(user.userId(), inAnHour).put("exp", (Object) null), Nodes.SECRET);
    String[] headers = {
      null,
      "",
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "Bearer not.a.jwt",
      "Bearer " + otherKey,
      "Bearer " + unsigned,
      "Bearer " + expired,
      "Bearer " + otherIssuer,
      "Bearer " + otherAudience,
      "Bearer " + noExpiry,
    };
    for (String header : headers) {
      Reply reply = api.raw(HttpMethod.GET, "/api/auth/me", header, null);
      assertEquals(401, reply.status(), "Authorization: " + header);
      assertEquals("UNAUTHORIZED", reply.errorCode(), "Authorization: " + header);
      assertNotNull(reply.errorMessage());
    }
    // The same claims signed with the right key pass: the rejections above are about the token, not the user.
    String good = Jwts.hs256(Jwts.claims(user.userId(), inAnHour), Nodes.SECRET);
    assertEquals(200, api.raw(HttpMethod.GET, "/api/auth/me", "Bearer " + good, null).status());
  }

  @Test
  void tokenCarriesRolesAndIdentity() {
    Session user = api.register("claims");
    String payload = user.token().split("\\.")[1];
    JsonObject claims = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(payload)));
    assertEquals(user.userId(), claims.getString("sub"));
    assertEquals("parley", claims.getString("iss"));
    assertTrue(claims.getValue("aud").toString().contains("parley"));
    assertTrue(claims.getJsonArray("roles").contains("user"));
    assertEquals(86_400, claims.getLong("exp") - claims.getLong("iat"));
  }
}
