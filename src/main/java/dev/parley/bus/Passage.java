package dev.parley.bus;

import io.vertx.core.json.JsonObject;

/**
 * A chunk of the knowledge base found for a query: where it comes from, its text, and how well it matched
 * ({@code rank}, higher is better; {@code match} says whether full-text search or trigram similarity found it).
 */
public record Passage(String chunkId, String documentId, String title, int ordinal, String content, double rank,
                      String match) {

  public static final String CHUNK_ID = "chunkId";
  public static final String DOCUMENT_ID = "documentId";
  public static final String TITLE = "title";
  public static final String ORDINAL = "ordinal";
  public static final String CONTENT = "content";
  public static final String RANK = "rank";
  public static final String MATCH = "match";
  public static final String FULL_TEXT = "fulltext";
  public static final String TRIGRAM = "trigram";

  public JsonObject toJson() {
    return new JsonObject().put(CHUNK_ID, chunkId).put(DOCUMENT_ID, documentId).put(TITLE, title).put(ORDINAL, ordinal)
      .put(CONTENT, content).put(RANK, rank).put(MATCH, match);
  }

  public static Passage fromJson(JsonObject json) {
    return new Passage(json.getString(CHUNK_ID), json.getString(DOCUMENT_ID), json.getString(TITLE),
      json.getInteger(ORDINAL, 0), json.getString(CONTENT), json.getDouble(RANK, 0.0), json.getString(MATCH));
  }
}
