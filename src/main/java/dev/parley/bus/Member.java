package dev.parley.bus;

import io.vertx.core.json.JsonObject;

/** A user's membership of a conversation. {@code role} is {@code owner} or {@code member}. */
public record Member(String userId, String email, String displayName, String role, String joinedAt, long lastReadSeq) {

  public static final String USER_ID = "userId";
  public static final String EMAIL = "email";
  public static final String DISPLAY_NAME = "displayName";
  public static final String ROLE = "role";
  public static final String JOINED_AT = "joinedAt";
  public static final String LAST_READ_SEQ = "lastReadSeq";

  public static final String OWNER = "owner";
  public static final String MEMBER = "member";

  public JsonObject toJson() {
    return new JsonObject()
      .put(USER_ID, userId)
      .put(EMAIL, email)
      .put(DISPLAY_NAME, displayName)
      .put(ROLE, role)
      .put(JOINED_AT, joinedAt)
      .put(LAST_READ_SEQ, lastReadSeq);
  }

  public static Member fromJson(JsonObject json) {
    return new Member(json.getString(USER_ID), json.getString(EMAIL), json.getString(DISPLAY_NAME),
      json.getString(ROLE), json.getString(JOINED_AT), json.getLong(LAST_READ_SEQ, 0L));
  }
}
