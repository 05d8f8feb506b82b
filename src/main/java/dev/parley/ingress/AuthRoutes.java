package dev.parley.ingress;

import dev.parley.auth.Passwords;
import dev.parley.auth.Tokens;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreApi;
import dev.parley.bus.StoreClient;
import dev.parley.bus.User;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Accounts: register and log in (email + password, answered with a JWT), and "who am I". bcrypt runs on a
 * worker thread; an unknown email and a wrong password take as long and answer the same.
 */
final class AuthRoutes {

  /** Request and reply fields of the auth API (email, displayName and user are the store's own). */
  static final String PASSWORD = "password";
  static final String TOKEN = "token";
  static final String TOKEN_TYPE = "tokenType";
  static final String EXPIRES_IN = "expiresIn";

  private final Vertx vertx;
  private final StoreClient store;
  private final Passwords passwords;
  private final Tokens tokens;
  private final Auditor audit;

  AuthRoutes(Vertx vertx, StoreClient store, Passwords passwords, Tokens tokens, Auditor audit) {
    this.audit = audit;
    this.vertx = vertx;
    this.store = store;
    this.passwords = passwords;
    this.tokens = tokens;
  }

  void mount(Router router, Authenticator authenticated) {
    router.post("/api/auth/register").handler(this::register);
    router.post("/api/auth/login").handler(this::login);
    router.get("/api/auth/me").handler(authenticated).handler(this::me);
    router.get("/api/users/me").handler(authenticated).handler(this::me);
  }

  private void register(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    String email = Inputs.email(body, StoreApi.EMAIL);
    String password = Inputs.newPassword(body, PASSWORD);
    String displayName = Inputs.string(body, StoreApi.DISPLAY_NAME, false, 100);
    String name = displayName != null ? displayName : email.substring(0, email.indexOf('@'));
    Future<JsonObject> registered = vertx.executeBlocking(() -> passwords.hash(password), false)
      .compose(hash -> store.createUser(email, name, hash))
      .onSuccess(user -> {
        audit.record(ctx, user.id(), null, Auditor.REGISTERED, "user", user.id(), new JsonObject());
        if (user.roles().contains("admin")) {
          audit.record(ctx, user.id(), null, Auditor.ROLE_GRANTED, "user", user.id(),
            new JsonObject().put("role", "admin").put("by", "ADMIN_EMAILS"));
        }
      })
      .map(this::session);
    Responses.reply(ctx, 201, registered);
  }

  private void login(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    String email = Inputs.email(body, StoreApi.EMAIL);
    String password = Inputs.password(body, PASSWORD);
    Future<JsonObject> session = store.credentials(email)
      .recover(failure -> ParleyException.from(failure).code() == ErrorCode.NOT_FOUND
        ? Future.succeededFuture(null)
        : Future.failedFuture(failure))
      .compose(credentials -> vertx.executeBlocking(
          () -> passwords.verify(password, credentials == null ? null : credentials.passwordHash()), false)
        .compose(valid -> {
          if (valid) {
            audit.record(ctx, credentials.user().id(), null, Auditor.LOGIN, "user", credentials.user().id(),
              new JsonObject());
            return Future.succeededFuture(session(credentials.user()));
          }
          audit.record(ctx, credentials == null ? null : credentials.user().id(), email, Auditor.LOGIN_FAILED,
            "user", credentials == null ? null : credentials.user().id(), new JsonObject());
          return Future.failedFuture(ParleyException.unauthorized("invalid email or password"));
        }));
    Responses.reply(ctx, 200, session);
  }

  private void me(RoutingContext ctx) {
    Future<JsonObject> me = store.user(Authenticator.user(ctx).id())
      .map(User::toJson)
      .recover(failure -> ParleyException.from(failure).code() == ErrorCode.NOT_FOUND
        ? Future.failedFuture(ParleyException.unauthorized("the account of this token no longer exists"))
        : Future.failedFuture(failure));
    Responses.reply(ctx, 200, me);
  }

  private JsonObject session(User user) {
    return new JsonObject()
      .put(TOKEN, tokens.issue(user))
      .put(TOKEN_TYPE, "Bearer")
      .put(EXPIRES_IN, tokens.expiresInSeconds())
      .put(StoreApi.USER, user.toJson());
  }
}
