package dev.parley.bus;

import io.vertx.core.json.JsonObject;

/**
 * A document of the knowledge base. {@code conversationId} is null for one in its owner's library; {@code global}
 * is true for one an admin uploaded for everyone; {@code chunks} is how many retrieval chunks it was cut into.
 */
public record Document(String id, String ownerId, String conversationId, String title, String filename,
                       String contentType, long sizeBytes, String sha256, boolean global, int chunks,
                       String createdAt) {

  public static final String ID = "id";
  public static final String OWNER_ID = "ownerId";
  public static final String CONVERSATION_ID = "conversationId";
  public static final String TITLE = "title";
  public static final String FILENAME = "filename";
  public static final String CONTENT_TYPE = "contentType";
  public static final String SIZE_BYTES = "sizeBytes";
  public static final String SHA256 = "sha256";
  public static final String GLOBAL = "global";
  public static final String CHUNKS = "chunks";
  public static final String CREATED_AT = "createdAt";

  public JsonObject toJson() {
    return new JsonObject().put(ID, id).put(OWNER_ID, ownerId).put(CONVERSATION_ID, conversationId).put(TITLE, title)
      .put(FILENAME, filename).put(CONTENT_TYPE, contentType).put(SIZE_BYTES, sizeBytes).put(SHA256, sha256)
      .put(GLOBAL, global).put(CHUNKS, chunks).put(CREATED_AT, createdAt);
  }

  public static Document fromJson(JsonObject json) {
    return new Document(json.getString(ID), json.getString(OWNER_ID), json.getString(CONVERSATION_ID),
      json.getString(TITLE), json.getString(FILENAME), json.getString(CONTENT_TYPE), json.getLong(SIZE_BYTES, 0L),
      json.getString(SHA256), json.getBoolean(GLOBAL, false), json.getInteger(CHUNKS, 0), json.getString(CREATED_AT));
  }
}
