package dev.parley.store;

import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreApi;
import dev.parley.bus.User;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/** Accounts. Emails are unique without regard to case. */
final class Users {

  static final String UNIQUE_VIOLATION = "23505";

  private static final String INSERT = "INSERT INTO users AS u (email, display_name, password_hash, roles) "
    + "VALUES ($1, $2, $3, $4) RETURNING " + Rows.USER_COLUMNS;
  private static final String BY_EMAIL = "SELECT " + Rows.USER_COLUMNS + ", u.password_hash FROM users u "
    + "WHERE lower(u.email) = lower($1)";
  private static final String BY_ID = "SELECT " + Rows.USER_COLUMNS + " FROM users u WHERE u.id = $1";

  /**
   * A bot's account: created on first use, renamed on later ones. {@code ON CONFLICT} takes over only an account
   * that is already a bot's, so a person's account can never be turned into one.
   */
  private static final String BOT = "INSERT INTO users AS u (email, display_name, password_hash, roles) "
    + "VALUES ($1, $2, $3, ARRAY[$4]) ON CONFLICT (lower(email)) DO UPDATE "
    + "SET display_name = EXCLUDED.display_name WHERE $4 = ANY(u.roles) RETURNING " + Rows.USER_COLUMNS;

  private final Pool pool;

  Users(Pool pool) {
    this.pool = pool;
  }

  /** @param admin whether the account gets the {@code admin} role (its email is in ADMIN_EMAILS) */
  Future<User> create(String email, String displayName, String passwordHash, boolean admin) {
    if (User.isBotEmail(email)) {
      return Future.failedFuture(ParleyException.invalid("addresses @" + User.BOT_DOMAIN + " are reserved for bots"));
    }
    String[] roles = admin ? new String[] {"user", "admin"} : new String[] {"user"};
    return pool.preparedQuery(INSERT).execute(Tuple.of(email, displayName, passwordHash, roles))
      .map(rows -> Rows.user(rows.iterator().next()))
      .recover(failure -> failure instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())
        ? Future.failedFuture(new ParleyException(ErrorCode.CONFLICT, "an account with this email already exists"))
        : Future.failedFuture(failure));
  }

  /** The bot with this handle ({@code handle@bot.invalid}), created or renamed to {@code displayName}. */
  Future<User> bot(String handle, String displayName) {
    return pool.preparedQuery(BOT).execute(Tuple.of(User.botEmail(handle), displayName, User.NO_PASSWORD, User.ROLE_BOT))
      .map(rows -> {
        if (rows.size() == 0) {
          // The address is a person's (registered before bot addresses were reserved): never take it over.
          throw new ParleyException(ErrorCode.CONFLICT, "a person's account holds " + User.botEmail(handle));
        }
        return Rows.user(rows.iterator().next());
      });
  }

  Future<JsonObject> credentials(String email) {
    return pool.preparedQuery(BY_EMAIL).execute(Tuple.of(email)).map(rows -> {
      Row row = single(rows, "account");
      return new JsonObject()
        .put(StoreApi.USER, Rows.user(row).toJson())
        .put(StoreApi.PASSWORD_HASH, row.getString("password_hash"));
    });
  }

  Future<User> get(UUID id) {
    return pool.preparedQuery(BY_ID).execute(Tuple.of(id)).map(rows -> Rows.user(single(rows, "user")));
  }

  private static final String IS_ADMIN = "SELECT 'admin' = ANY(roles) AS admin FROM users WHERE id = $1";

  /** Whether the user has the admin role (ADMIN_EMAILS); works inside a transaction too. */
  static Future<Boolean> isAdmin(io.vertx.sqlclient.SqlClient client, UUID user) {
    return client.preparedQuery(IS_ADMIN).execute(Tuple.of(user))
      .map(rows -> rows.size() > 0 && Boolean.TRUE.equals(rows.iterator().next().getBoolean("admin")));
  }

  static Row single(RowSet<Row> rows, String what) {
    if (rows.size() == 0) {
      throw ParleyException.notFound(what + " not found");
    }
    return rows.iterator().next();
  }
}
