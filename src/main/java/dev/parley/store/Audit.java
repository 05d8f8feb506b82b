package dev.parley.store;

import dev.parley.bus.Json;
import dev.parley.bus.ParleyException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/** The audit log: who did what, when, from where. Written by anyone, read by admins only, newest first. */
final class Audit {

  private static final String INSERT = "INSERT INTO audit_log (actor_id, actor_email, action, target_type, target_id, "
    + "address, details) VALUES ($1, COALESCE($2, (SELECT email FROM users WHERE id = $1)), $3, $4, $5, $6, $7)";
  private static final String PAGE = "SELECT id, at, actor_id, actor_email, action, target_type, target_id, address, "
    + "details FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2";

  private final Pool pool;

  Audit(Pool pool) {
    this.pool = pool;
  }

  Future<Void> record(UUID actor, String email, String action, String targetType, String targetId, String address,
                      JsonObject details) {
    return pool.preparedQuery(INSERT).execute(Tuple.of(actor, email, action, targetType, targetId, address)
      .addValue(details == null ? new JsonObject() : details)).mapEmpty();
  }

  /** A page of entries older than {@code before} (null: the newest); FORBIDDEN unless the reader is an admin. */
  Future<JsonObject> list(UUID reader, Long before, int limit) {
    return Users.isAdmin(pool, reader).compose(admin -> {
      if (!admin) {
        return Future.failedFuture(ParleyException.forbidden("only an admin can read the audit log"));
      }
      return pool.preparedQuery(PAGE).execute(Tuple.of(before == null ? Long.MAX_VALUE : before, limit + 1));
    }).map(rows -> {
      JsonArray items = new JsonArray();
      Long next = null;
      for (Row row : rows) {
        if (items.size() == limit) {
          next = items.getJsonObject(items.size() - 1).getLong("id");
          break;
        }
        UUID actor = row.getUUID("actor_id");
        items.add(new JsonObject().put("id", row.getLong("id")).put("at", Json.time(row.getOffsetDateTime("at")))
          .put("actorId", actor == null ? null : actor.toString()).put("actorEmail", row.getString("actor_email"))
          .put("action", row.getString("action")).put("targetType", row.getString("target_type"))
          .put("targetId", row.getString("target_id")).put("address", row.getString("address"))
          .put("details", row.getValue("details") instanceof JsonObject json ? json : new JsonObject()));
      }
      return new JsonObject().put("items", items).put("nextBefore", next);
    });
  }
}
