package dev.parley.auth;

import dev.parley.bus.ParleyException;
import dev.parley.bus.User;
import dev.parley.config.ParleyConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.util.List;

/**
 * Issues and verifies the HS256 JWTs of Parley: {@code sub} is the user id, {@code iss} and {@code aud} are
 * set and checked, {@code exp} is required, and {@code name}, {@code email}, {@code roles} ride along.
 * A token signed with another key, with {@code alg: none}, expired, or for another issuer or audience is
 * refused with UNAUTHORIZED.
 */
public final class Tokens {

  private static final String ALGORITHM = "HS256";
  private static final String NAME = "name";
  private static final String EMAIL = "email";
  private static final String ROLES = "roles";
  private static final String SUBJECT = "sub";
  private static final String EXPIRES = "exp";
  private static final String ISSUER = "iss";
  private static final String AUDIENCE = "aud";

  private final JWTAuth jwt;
  private final ParleyConfig.Auth settings;

  public Tokens(Vertx vertx, ParleyConfig.Auth settings, String secret) {
    this.settings = settings;
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
      .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(secret))
      .setJWTOptions(new JWTOptions()
        .setIssuer(settings.issuer())
        .setAudience(List.of(settings.audience()))
        .setLeeway(5)));
  }

  public String issue(User user) {
    JsonObject claims = new JsonObject()
      .put(NAME, user.displayName())
      .put(EMAIL, user.email())
      .put(ROLES, new JsonArray(List.copyOf(user.roles())));
    return jwt.generateToken(claims, new JWTOptions()
      .setAlgorithm(ALGORITHM)
      .setSubject(user.id())
      .setIssuer(settings.issuer())
      .setAudience(List.of(settings.audience()))
      .setExpiresInSeconds((int) settings.expirySeconds()));
  }

  public long expiresInSeconds() {
    return settings.expirySeconds();
  }

  public Future<AuthenticatedUser> verify(String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture(ParleyException.unauthorized("missing token"));
    }
    Future<io.vertx.ext.auth.User> authenticated;
    try {
      authenticated = jwt.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      // The library throws on some malformed claims (an "exp" of null, for one) instead of failing the future.
      authenticated = Future.failedFuture(e);
    }
    return authenticated
      .recover(failure -> Future.failedFuture(ParleyException.unauthorized("invalid or expired token")))
      .compose(user -> {
        JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
        if (!checked(claims)) {
          return Future.failedFuture(ParleyException.unauthorized("invalid or expired token"));
        }
        JsonArray roles = claims.getJsonArray(ROLES, new JsonArray());
        return Future.succeededFuture(new AuthenticatedUser(claims.getString(SUBJECT), claims.getString(EMAIL),
          claims.getString(NAME), roles.stream().map(String::valueOf).toList(), claims.getLong(EXPIRES)));
      });
  }

  /** The library checks these too; checking again here keeps the contract in one readable place. */
  private boolean checked(JsonObject claims) {
    Object audience = claims.getValue(AUDIENCE);
    boolean audienceMatches = audience instanceof JsonArray array
      ? array.contains(settings.audience()) : settings.audience().equals(audience);
    return claims.getString(SUBJECT) != null
      && claims.getValue(EXPIRES) instanceof Number
      && settings.issuer().equals(claims.getString(ISSUER))
      && audienceMatches;
  }
}
