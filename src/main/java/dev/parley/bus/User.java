package dev.parley.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A user as clients and other verticles see it: never with its password hash. A bot is a user with the role
 * {@code bot} and the address {@code <handle>@bot.invalid}: it posts as itself, has no password, cannot log in.
 */
public record User(String id, String email, String displayName, List<String> roles, String createdAt) {

  public static final String ROLE_BOT = "bot";
  /** Reserved by RFC 2606, so no one receives mail there and no person can register under it. */
  public static final String BOT_DOMAIN = "bot.invalid";
  /** The password hash of a bot: not a bcrypt hash, so no password matches it. */
  public static final String NO_PASSWORD = "!";
  private static final java.util.regex.Pattern HANDLE = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  public static final String ID = "id";
  public static final String EMAIL = "email";
  public static final String DISPLAY_NAME = "displayName";
  public static final String ROLES = "roles";
  public static final String CREATED_AT = "createdAt";

  public boolean isBot() {
    return roles.contains(ROLE_BOT);
  }

  public static boolean isBotEmail(String email) {
    return email.toLowerCase(java.util.Locale.ROOT).endsWith("@" + BOT_DOMAIN);
  }

  /** @throws ParleyException INVALID unless the handle is 1-63 of {@code a-z 0-9 . _ -}, starting with a letter or digit */
  public static String botEmail(String handle) {
    if (handle == null || !HANDLE.matcher(handle).matches()) {
      throw ParleyException.invalid("a bot handle is 1-63 characters of a-z, 0-9, '.', '_' and '-'");
    }
    return handle + "@" + BOT_DOMAIN;
  }

  public JsonObject toJson() {
    return new JsonObject()
      .put(ID, id)
      .put(EMAIL, email)
      .put(DISPLAY_NAME, displayName)
      .put(ROLES, new JsonArray(List.copyOf(roles)))
      .put(CREATED_AT, createdAt);
  }

  public static User fromJson(JsonObject json) {
    return new User(json.getString(ID), json.getString(EMAIL), json.getString(DISPLAY_NAME),
      json.getJsonArray(ROLES, new JsonArray()).stream().map(String::valueOf).toList(), json.getString(CREATED_AT));
  }
}
