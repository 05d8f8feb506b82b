package dev.parley.support;

import dev.parley.Parley;
import io.vertx.core.json.JsonObject;


/** Starts real Parley nodes for tests: ports 0, a fast bcrypt cost, one known JWT key. */
public final class Nodes {

  public static final String SECRET = "test-secret-that-is-at-least-32-bytes-long";

  private Nodes() {
  }

  /** The settings of a node on the given database and Redis; callers add or change keys. */
  public static JsonObject config(String databaseUrl, String redisUrl) {
    return new JsonObject()
      .put("PORT", 0)
      .put("HOST", "127.0.0.1")
      .put("DATA_DIR", TestServices.tempDir("node").toString())
      .put("DATABASE_URL", databaseUrl)
      .put("REDIS_URL", redisUrl)
      .put("JWT_SECRET", SECRET)
      .put("BCRYPT_COST", 4)
      .put("HTTP_INSTANCES", 2)
      .put("SHUTDOWN_GRACE_MS", 1000);
  }

  /** A single node on a fresh database of the shared test services. */
  public static Parley start() {
    return start(config(TestServices.newDatabase(), TestServices.redisUrl()));
  }

  public static Parley start(JsonObject config) {
    return Parley.start(config).await();
  }
}
