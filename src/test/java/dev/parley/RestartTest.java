package dev.parley;

import dev.parley.auth.JwtSecret;
import dev.parley.support.Api;
import dev.parley.support.Api.Reply;
import dev.parley.support.Api.Session;
import dev.parley.support.TestServices;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node on embedded PostgreSQL and Redis, as a newcomer runs it: its data outlives the process. */
class RestartTest {

  @Test
  void dataAndTokensSurviveARestartOnTheSameDataDir() throws IOException {
    Path dataDir = TestServices.tempDir("restart");
    // Blank URLs and secret: embedded services and a generated key, whatever the environment says.
    JsonObject config = new JsonObject().put("PORT", 0).put("HOST", "127.0.0.1").put("DATA_DIR", dataDir.toString())
      .put("DATABASE_URL", "").put("REDIS_URL", "").put("JWT_SECRET", "").put("BCRYPT_COST", 4)
      .put("HTTP_INSTANCES", 1).put("SHUTDOWN_GRACE_MS", 1000);

    Parley first = Parley.start(config).await();
    Session user;
    String conversation;
    String databaseUrl = first.config().databaseUrl();
    String redisUrl = first.config().redisUrl();
    try (Api api = new Api(first.httpPort())) {
      user = api.register("keeper");
      conversation = api.conversation(user, "durable");
      assertEquals(201, api.say(user, conversation, "remember me").status());
    } finally {
      first.stop().await();
    }
    assertTrue(Files.exists(dataDir.resolve(JwtSecret.FILE_NAME)));
    assertTrue(Files.exists(dataDir.resolve("postgres").resolve("PG_VERSION")));
    // Stopping the node stopped its embedded servers.
    assertClosed(PgConnectOptions.fromUri(databaseUrl).getPort());
    assertClosed(URI.create(redisUrl).getPort());

    Parley second = Parley.start(config).await();
    try (Api api = new Api(second.httpPort())) {
      assertEquals(200, api.get("/api/auth/me", user.token()).status(), "the generated key was kept");
      Reply login = api.post("/api/auth/login", null,
        new JsonObject().put("email", user.email()).put("password", "correct horse battery"));
      assertEquals(200, login.status(), login.text());
      Reply messages = api.get("/api/conversations/" + conversation + "/messages", user.token());
      assertEquals("remember me", messages.json().getJsonArray("messages").getJsonObject(0).getString("content"));
      assertEquals(2, api.say(user, conversation, "still here").json().getLong("seq"));
      assertEquals(200, api.get("/ready", null).status());
    } finally {
      second.stop().await();
    }
  }

  private static void assertClosed(int port) {
    assertThrows(ConnectException.class, () -> {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      }
    }, "nothing listens on " + port + " any more");
  }
}
