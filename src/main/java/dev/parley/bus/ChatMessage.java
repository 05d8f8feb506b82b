package dev.parley.bus;

import io.vertx.core.json.JsonObject;

/**
 * A stored message. {@code seq} is its position in the conversation (1, 2, 3, ... without gaps), assigned in
 * the transaction that stored it. {@code senderId} is null for assistant and system messages. A deleted
 * message keeps its place as a tombstone: {@code deleted} is true and its content is gone.
 */
public record ChatMessage(String id, String conversationId, long seq, String role, String senderId,
                          String senderName, String content, JsonObject metadata, String clientMsgId,
                          String createdAt, String editedAt, boolean deleted) {

  public static final String ID = "id";
  public static final String CONVERSATION_ID = "conversationId";
  public static final String SEQ = "seq";
  public static final String ROLE = "role";
  public static final String SENDER = "sender";
  public static final String SENDER_ID = "id";
  public static final String SENDER_NAME = "displayName";
  public static final String CONTENT = "content";
  public static final String METADATA = "metadata";
  public static final String CLIENT_MSG_ID = "clientMsgId";
  public static final String CREATED_AT = "createdAt";
  public static final String EDITED_AT = "editedAt";
  public static final String DELETED = "deleted";

  public static final String ROLE_USER = "user";
  public static final String ROLE_ASSISTANT = "assistant";
  public static final String ROLE_SYSTEM = "system";

  public JsonObject toJson() {
    return new JsonObject()
      .put(ID, id)
      .put(CONVERSATION_ID, conversationId)
      .put(SEQ, seq)
      .put(ROLE, role)
      .put(SENDER, senderId == null ? null : new JsonObject().put(SENDER_ID, senderId).put(SENDER_NAME, senderName))
      .put(CONTENT, content)
      .put(METADATA, metadata)
      .put(CLIENT_MSG_ID, clientMsgId)
      .put(CREATED_AT, createdAt)
      .put(EDITED_AT, editedAt)
      .put(DELETED, deleted);
  }

  public static ChatMessage fromJson(JsonObject json) {
    JsonObject sender = json.getJsonObject(SENDER);
    return new ChatMessage(json.getString(ID), json.getString(CONVERSATION_ID), json.getLong(SEQ), json.getString(ROLE),
      sender == null ? null : sender.getString(SENDER_ID), sender == null ? null : sender.getString(SENDER_NAME),
      json.getString(CONTENT), json.getJsonObject(METADATA, new JsonObject()), json.getString(CLIENT_MSG_ID),
      json.getString(CREATED_AT), json.getString(EDITED_AT), json.getBoolean(DELETED, false));
  }
}
