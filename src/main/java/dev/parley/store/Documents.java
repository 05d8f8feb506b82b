package dev.parley.store;

import dev.parley.bus.Document;
import dev.parley.bus.Json;
import dev.parley.bus.ParleyException;
import dev.parley.bus.Passage;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The knowledge base: documents and their chunks, and the search over them. Ranks are between 0 and 1: the
 * full-text rank normalised as rank / (rank + 1), or the trigram word similarity. Who may read what, in one place:
 * a global document (an admin's) is everyone's; a document of a conversation is its members'; any other is its
 * owner's. A search in a conversation reads the asker's own library, the global documents and that
 * conversation's documents, never another conversation's.
 */
final class Documents {

  private static final String COLUMNS = "d.id, d.owner_id, d.conversation_id, d.title, d.filename, d.content_type, "
    + "d.size_bytes, d.sha256, d.global, d.created_at, "
    + "(SELECT count(*) FROM document_chunks k WHERE k.document_id = d.id) AS chunks";
  /** $1 the reader. */
  private static final String READABLE = "d.deleted_at IS NULL AND (d.global OR (d.conversation_id IS NULL AND "
    + "d.owner_id = $1) OR EXISTS (SELECT 1 FROM conversation_members m JOIN conversations c ON c.id = "
    + "m.conversation_id AND c.deleted_at IS NULL WHERE m.conversation_id = d.conversation_id AND m.user_id = $1))";
  /** $1 the asker, $2 the conversation (nullable). */
  private static final String SEARCHABLE = "d.deleted_at IS NULL AND (d.global OR (d.conversation_id IS NULL AND "
    + "d.owner_id = $1) OR (d.conversation_id = $2 AND EXISTS (SELECT 1 FROM conversation_members m "
    + "JOIN conversations c ON c.id = m.conversation_id AND c.deleted_at IS NULL "
    + "WHERE m.conversation_id = $2 AND m.user_id = $1)))";
  private static final String IS_MEMBER = "SELECT 1 FROM conversation_members m JOIN conversations c "
    + "ON c.id = m.conversation_id AND c.deleted_at IS NULL WHERE m.conversation_id = $1 AND m.user_id = $2";
  private static final String SAME_FILE = "SELECT " + COLUMNS + " FROM documents d WHERE d.owner_id = $1 "
    + "AND d.sha256 = $2 AND d.conversation_id IS NOT DISTINCT FROM $3 AND d.global = $4 AND d.deleted_at IS NULL";
  private static final String INSERT = "INSERT INTO documents (owner_id, conversation_id, title, filename, content_type, "
    + "size_bytes, sha256, global) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
  private static final String INSERT_CHUNK = "INSERT INTO document_chunks (document_id, ordinal, content) VALUES ($1, $2, $3)";
  private static final String BY_ID = "SELECT " + COLUMNS + " FROM documents d WHERE d.id = $2 AND " + READABLE;
  private static final String LIBRARY = "SELECT " + COLUMNS + " FROM documents d WHERE d.deleted_at IS NULL "
    + "AND ((d.owner_id = $1 AND d.conversation_id IS NULL) OR d.global) ORDER BY d.created_at DESC, d.id LIMIT 500";
  private static final String OF_CONVERSATION = "SELECT " + COLUMNS + " FROM documents d WHERE d.deleted_at IS NULL "
    + "AND d.conversation_id = $2 AND " + READABLE + " ORDER BY d.created_at DESC, d.id LIMIT 500";
  private static final String DELETE = "UPDATE documents SET deleted_at = now() WHERE id = $1";
  private static final String DELETE_CHUNKS = "DELETE FROM document_chunks WHERE document_id = $1";
  private static final String FULL_TEXT = "SELECT k.id, k.document_id, d.title, k.ordinal, k.content, "
    + "ts_rank_cd(k.tsv, q.query, 32) AS rank FROM document_chunks k JOIN documents d ON d.id = k.document_id, "
    + "websearch_to_tsquery($4::regconfig, $3) AS q(query) WHERE k.tsv @@ q.query AND " + SEARCHABLE
    + " ORDER BY rank DESC, k.id LIMIT $5";
  /** For queries full-text search finds nothing for: a misspelling, a fragment of a word. */
  private static final String TRIGRAM = "SELECT k.id, k.document_id, d.title, k.ordinal, k.content, "
    + "word_similarity($3, k.content) AS rank FROM document_chunks k JOIN documents d ON d.id = k.document_id "
    + "WHERE $3 <% k.content AND " + SEARCHABLE + " ORDER BY rank DESC, k.id LIMIT $4";
  private static final String TRIGRAM_THRESHOLD = "SET LOCAL pg_trgm.word_similarity_threshold = 0.4";

  private final Pool pool;
  private final String language;

  Documents(Pool pool, String language) {
    this.pool = pool;
    this.language = language;
  }

  /** The stored document, and whether it was there already (the same file in the same place: nothing stored). */
  record Created(Document document, boolean duplicate) {
  }

  /** Stores a document and its chunks in one transaction. */
  Future<Created> create(UUID owner, UUID conversation, String title, String filename, String contentType,
                         long size, String sha256, boolean global, List<String> chunks) {
    return pool.withTransaction(tx -> checkPlace(tx, owner, conversation, global)
      .compose(v -> tx.preparedQuery(SAME_FILE).execute(Tuple.of(owner, sha256, conversation, global)))
      .compose(same -> {
        if (same.size() > 0) {
          return Future.succeededFuture(new Created(document(same.iterator().next()), true));
        }
        return tx.preparedQuery(INSERT).execute(Tuple.of(owner, conversation, title, filename, contentType, size)
            .addValue(sha256).addValue(global))
          .compose(inserted -> {
            UUID id = inserted.iterator().next().getUUID("id");
            List<Tuple> rows = new ArrayList<>();
            for (int i = 0; i < chunks.size(); i++) {
              rows.add(Tuple.of(id, i, chunks.get(i)));
            }
            Future<?> stored = rows.isEmpty() ? Future.succeededFuture()
              : tx.preparedQuery(INSERT_CHUNK).executeBatch(rows);
            return stored.compose(v -> tx.preparedQuery(BY_ID).execute(Tuple.of(owner, id)))
              .map(read -> new Created(document(Users.single(read, "document")), false));
          });
      }));
  }

  /** A document goes into a conversation its owner is a member of; only an admin makes one global. */
  private static Future<Void> checkPlace(io.vertx.sqlclient.SqlClient tx, UUID owner, UUID conversation,
                                         boolean global) {
    Future<Void> member = conversation == null ? Future.succeededFuture()
      : tx.preparedQuery(IS_MEMBER).execute(Tuple.of(conversation, owner))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ParleyException.notFound("conversation not found"))
          : Future.succeededFuture());
    return member.compose(v -> !global ? Future.succeededFuture() : Users.isAdmin(tx, owner).compose(admin -> admin
      ? Future.succeededFuture()
      : Future.failedFuture(ParleyException.forbidden("only an admin can upload a global document"))));
  }

  /** The reader's library and the global documents; with a conversation, that conversation's documents. */
  Future<List<Document>> list(UUID reader, UUID conversation) {
    Future<RowSet<Row>> rows = conversation == null
      ? pool.preparedQuery(LIBRARY).execute(Tuple.of(reader))
      : pool.preparedQuery(IS_MEMBER).execute(Tuple.of(conversation, reader)).compose(member -> member.size() == 0
        ? Future.failedFuture(ParleyException.notFound("conversation not found"))
        : pool.preparedQuery(OF_CONVERSATION).execute(Tuple.of(reader, conversation)));
    return rows.map(found -> {
      List<Document> documents = new ArrayList<>();
      found.forEach(row -> documents.add(document(row)));
      return documents;
    });
  }

  Future<Document> get(UUID reader, UUID id) {
    return pool.preparedQuery(BY_ID).execute(Tuple.of(reader, id)).map(rows -> document(Users.single(rows, "document")));
  }

  /** The owner, or an admin, deletes a document: it disappears from every search at once. */
  Future<Void> delete(UUID actor, UUID id) {
    return pool.withTransaction(tx -> tx.preparedQuery(BY_ID).execute(Tuple.of(actor, id))
      .map(rows -> document(Users.single(rows, "document")))
      .compose(document -> document.ownerId().equals(actor.toString()) ? Future.succeededFuture(true)
        : Users.isAdmin(tx, actor))
      .compose(allowed -> allowed ? tx.preparedQuery(DELETE).execute(Tuple.of(id))
        .compose(v -> tx.preparedQuery(DELETE_CHUNKS).execute(Tuple.of(id))).<Void>mapEmpty()
        : Future.failedFuture(ParleyException.forbidden("only the owner or an admin can delete a document"))));
  }

  /**
   * The best passages the asker may read: by full-text rank over the query's significant words (any may match,
   * more matches rank higher); by trigram similarity to the whole query when that finds none.
   */
  Future<List<Passage>> search(UUID asker, UUID conversation, String query, int limit) {
    String anyTerm = dev.parley.knowledge.Terms.anyOf(query);
    return pool.preparedQuery(FULL_TEXT).execute(Tuple.of(asker, conversation, anyTerm, language, limit))
      .compose(found -> found.size() > 0 ? Future.succeededFuture(passages(found, Passage.FULL_TEXT))
        : pool.withTransaction(tx -> tx.query(TRIGRAM_THRESHOLD).execute()
          .compose(v -> tx.preparedQuery(TRIGRAM).execute(Tuple.of(asker, conversation, query, limit))))
          .map(similar -> passages(similar, Passage.TRIGRAM)));
  }

  private static List<Passage> passages(RowSet<Row> rows, String match) {
    List<Passage> passages = new ArrayList<>();
    rows.forEach(row -> passages.add(new Passage(row.getUUID("id").toString(), row.getUUID("document_id").toString(),
      row.getString("title"), row.getInteger("ordinal"), row.getString("content"), row.getDouble("rank"), match)));
    return passages;
  }

  private static Document document(Row row) {
    UUID conversation = row.getUUID("conversation_id");
    return new Document(row.getUUID("id").toString(), row.getUUID("owner_id").toString(),
      conversation == null ? null : conversation.toString(), row.getString("title"), row.getString("filename"),
      row.getString("content_type"), row.getLong("size_bytes"), row.getString("sha256"), row.getBoolean("global"),
      row.getLong("chunks").intValue(), Json.time(row.getOffsetDateTime("created_at")));
  }
}
