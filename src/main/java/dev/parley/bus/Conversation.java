package dev.parley.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;

/**
 * A conversation as seen by one member: {@code myRole} is that member's role, {@code members} is filled
 * only where a single conversation is read (not in listings).
 */
public record Conversation(String id, String ownerId, String title, String assistantMode, JsonObject metadata,
                           long lastSeq, String createdAt, String updatedAt, String lastMessageAt,
                           String myRole, long myLastReadSeq, List<Member> members) {

  public static final String ID = "id";
  public static final String OWNER_ID = "ownerId";
  public static final String TITLE = "title";
  public static final String ASSISTANT_MODE = "assistantMode";
  public static final String METADATA = "metadata";
  public static final String LAST_SEQ = "lastSeq";
  public static final String CREATED_AT = "createdAt";
  public static final String UPDATED_AT = "updatedAt";
  public static final String LAST_MESSAGE_AT = "lastMessageAt";
  public static final String MY_ROLE = "myRole";
  public static final String MY_LAST_READ_SEQ = "myLastReadSeq";
  public static final String MEMBERS = "members";

  /** {@code always}: the assistant answers every user message; {@code mention}: only when addressed; {@code off}. */
  public static final Set<String> ASSISTANT_MODES = Set.of("always", "mention", "off");
  public static final String DEFAULT_ASSISTANT_MODE = "mention";

  public Conversation withMembers(List<Member> members) {
    return new Conversation(id, ownerId, title, assistantMode, metadata, lastSeq, createdAt, updatedAt,
      lastMessageAt, myRole, myLastReadSeq, members);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put(ID, id)
      .put(OWNER_ID, ownerId)
      .put(TITLE, title)
      .put(ASSISTANT_MODE, assistantMode)
      .put(METADATA, metadata)
      .put(LAST_SEQ, lastSeq)
      .put(CREATED_AT, createdAt)
      .put(UPDATED_AT, updatedAt)
      .put(LAST_MESSAGE_AT, lastMessageAt)
      .put(MY_ROLE, myRole)
      .put(MY_LAST_READ_SEQ, myLastReadSeq);
    if (members != null) {
      json.put(MEMBERS, Json.array(members, Member::toJson));
    }
    return json;
  }

  public static Conversation fromJson(JsonObject json) {
    JsonArray members = json.getJsonArray(MEMBERS);
    return new Conversation(json.getString(ID), json.getString(OWNER_ID), json.getString(TITLE),
      json.getString(ASSISTANT_MODE), json.getJsonObject(METADATA, new JsonObject()), json.getLong(LAST_SEQ, 0L),
      json.getString(CREATED_AT), json.getString(UPDATED_AT), json.getString(LAST_MESSAGE_AT),
      json.getString(MY_ROLE), json.getLong(MY_LAST_READ_SEQ, 0L),
      members == null ? null : Json.list(members, Member::fromJson));
  }
}
