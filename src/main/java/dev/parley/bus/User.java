package dev.parley.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** A user as clients and other verticles see it: never with its password hash. */
public record User(String id, String email, String displayName, List<String> roles, String createdAt) {

  public static final String ID = "id";
  public static final String EMAIL = "email";
  public static final String DISPLAY_NAME = "displayName";
  public static final String ROLES = "roles";
  public static final String CREATED_AT = "createdAt";

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
