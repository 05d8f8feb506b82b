package dev.parley.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.List;

import static dev.parley.bus.StoreApi.*;

/**
 * The typed face of {@link Addresses#STORE}. Every failure comes back as a {@link ParleyException}.
 */
public final class StoreClient extends BusClient {

  /** A page of conversations, newest activity first; {@code nextCursor} is null on the last page. */
  public record ConversationPage(List<Conversation> items, String nextCursor) {
    public JsonObject toJson() {
      return new JsonObject().put(ITEMS, Json.array(items, Conversation::toJson)).put(NEXT_CURSOR, nextCursor);
    }
  }

  /** Messages in ascending {@code seq}; {@code hasMore} says more exist past the page in its direction. */
  public record MessagePage(List<ChatMessage> messages, boolean hasMore) {
    public JsonObject toJson() {
      return new JsonObject().put(MESSAGES, Json.array(messages, ChatMessage::toJson)).put(HAS_MORE, hasMore);
    }
  }

  /**
   * The result of an append: {@code duplicate} is true when the clientMsgId was seen, and nothing was stored;
   * {@code assistantMode} is the conversation's (null on a duplicate), so the caller knows whether to ask the
   * assistant.
   */
  public record Appended(ChatMessage message, boolean duplicate, String assistantMode) {
  }

  /** Messages after a seq, ascending, and the conversation's last seq when they were read. */
  public record Since(List<ChatMessage> messages, long lastSeq) {
  }

  /** A user and the hash to check a password against; never leaves the node that asked for it. */
  public record Credentials(User user, String passwordHash) {
  }

  public StoreClient(Vertx vertx, boolean preferLocal, long timeoutMs) {
    super(vertx, Addresses.STORE, preferLocal, timeoutMs);
  }

  public Future<User> createUser(String email, String displayName, String passwordHash) {
    return request(USER_CREATE, new JsonObject().put(EMAIL, email).put(DISPLAY_NAME, displayName)
      .put(PASSWORD_HASH, passwordHash)).map(User::fromJson);
  }

  /** The bot {@code handle@bot.invalid}, created on first use and renamed to {@code displayName} on later ones. */
  public Future<User> bot(String handle, String displayName) {
    return request(USER_BOT, new JsonObject().put(HANDLE, handle).put(DISPLAY_NAME, displayName)).map(User::fromJson);
  }

  public Future<Credentials> credentials(String email) {
    return request(USER_CREDENTIALS, new JsonObject().put(EMAIL, email))
      .map(json -> new Credentials(User.fromJson(json.getJsonObject(USER)), json.getString(PASSWORD_HASH)));
  }

  public Future<User> user(String userId) {
    return request(USER_GET, new JsonObject().put(USER_ID, userId)).map(User::fromJson);
  }

  public Future<Conversation> createConversation(String userId, String title, String assistantMode, JsonObject metadata) {
    return createConversation(userId, title, assistantMode, false, metadata);
  }

  /**
   * @param modeIsDefault the mode is the creator's default, not a choice: an {@code always} room becomes
   *                      {@code mention} once it has a second member
   */
  public Future<Conversation> createConversation(String userId, String title, String assistantMode,
                                                 boolean modeIsDefault, JsonObject metadata) {
    return request(CONVERSATION_CREATE, new JsonObject().put(USER_ID, userId).put(TITLE, title)
      .put(ASSISTANT_MODE, assistantMode).put(MODE_IS_DEFAULT, modeIsDefault).put(METADATA, metadata))
      .map(Conversation::fromJson);
  }

  public Future<ConversationPage> conversations(String userId, int limit, String cursor) {
    return request(CONVERSATION_LIST, new JsonObject().put(USER_ID, userId).put(LIMIT, limit).put(CURSOR, cursor))
      .map(json -> new ConversationPage(Json.list(json.getJsonArray(ITEMS), Conversation::fromJson),
        json.getString(NEXT_CURSOR)));
  }

  public Future<Conversation> conversation(String userId, String conversationId) {
    return request(CONVERSATION_GET, about(userId, conversationId)).map(Conversation::fromJson);
  }

  /** The conversation as its member {@code userId} sees it, without the member list; NOT_FOUND for others. */
  public Future<Conversation> membership(String userId, String conversationId) {
    return request(CONVERSATION_MEMBERSHIP, about(userId, conversationId)).map(Conversation::fromJson);
  }

  /** Changes the fields present in {@code changes} (title, assistantMode, metadata). */
  public Future<Conversation> updateConversation(String userId, String conversationId, JsonObject changes) {
    return request(CONVERSATION_UPDATE, changes.copy().mergeIn(about(userId, conversationId)))
      .map(Conversation::fromJson);
  }

  public Future<Void> deleteConversation(String userId, String conversationId) {
    return request(CONVERSATION_DELETE, about(userId, conversationId)).mapEmpty();
  }

  /** Adds a member named by user id or, when {@code memberId} is null, by email. */
  public Future<Member> addMember(String userId, String conversationId, String memberId, String email) {
    return request(MEMBER_ADD, about(userId, conversationId).put(MEMBER_ID, memberId).put(EMAIL, email))
      .map(Member::fromJson);
  }

  public Future<Void> removeMember(String userId, String conversationId, String memberId) {
    return request(MEMBER_REMOVE, about(userId, conversationId).put(MEMBER_ID, memberId)).mapEmpty();
  }

  /**
   * Stores a message and gives it the next {@code seq}. {@code senderId} is null for assistant and system
   * messages; a user sender must be a member. Retrying with the same {@code clientMsgId} returns the original.
   */
  public Future<Appended> append(String conversationId, String senderId, String role, String content,
                                 JsonObject metadata, String clientMsgId) {
    return request(MESSAGE_APPEND, new JsonObject().put(CONVERSATION_ID, conversationId).put(SENDER_ID, senderId)
      .put(ROLE, role).put(CONTENT, content).put(METADATA, metadata).put(CLIENT_MSG_ID, clientMsgId))
      .map(json -> new Appended(ChatMessage.fromJson(json.getJsonObject(MESSAGE)), json.getBoolean(DUPLICATE),
        json.getString(ASSISTANT_MODE)));
  }

  public Future<MessagePage> messages(String userId, String conversationId, Long after, Long before, int limit) {
    return request(MESSAGE_LIST, about(userId, conversationId).put(AFTER, after).put(BEFORE, before).put(LIMIT, limit))
      .map(json -> new MessagePage(Json.list(json.getJsonArray(MESSAGES), ChatMessage::fromJson),
        json.getBoolean(HAS_MORE)));
  }

  public Future<ChatMessage> editMessage(String userId, String conversationId, String messageId, String content) {
    return request(MESSAGE_EDIT, about(userId, conversationId).put(MESSAGE_ID, messageId).put(CONTENT, content))
      .map(ChatMessage::fromJson);
  }

  public Future<ChatMessage> deleteMessage(String userId, String conversationId, String messageId) {
    return request(MESSAGE_DELETE, about(userId, conversationId).put(MESSAGE_ID, messageId))
      .map(ChatMessage::fromJson);
  }

  /** Moves the member's read marker forward to {@code seq}; answers the marker as stored. */
  public Future<Long> markRead(String userId, String conversationId, long seq) {
    return request(MEMBER_READ, about(userId, conversationId).put(SEQ, seq)).map(json -> json.getLong(LAST_READ_SEQ));
  }

  /** Trusted read for the node's own fan-out: no membership check. {@code limit} 0 reads only the last seq. */
  public Future<Since> since(String conversationId, long after, int limit) {
    return request(MESSAGE_SINCE, new JsonObject().put(CONVERSATION_ID, conversationId).put(AFTER, after).put(LIMIT, limit))
      .map(json -> new Since(Json.list(json.getJsonArray(MESSAGES), ChatMessage::fromJson), json.getLong(LAST_SEQ)));
  }

  /** A stored document, and whether it was there already. */
  public record StoredDocument(Document document, boolean duplicate) {
  }

  /** Stores a document and its chunks; the same file in the same place again stores nothing. */
  public Future<StoredDocument> createDocument(String userId, String conversationId, String title, String filename,
                                               String contentType, long sizeBytes, String sha256, boolean global,
                                               List<String> chunks) {
    return request(DOCUMENT_CREATE, new JsonObject().put(USER_ID, userId).put(CONVERSATION_ID, conversationId)
      .put(TITLE, title).put(FILENAME, filename).put(CONTENT_TYPE, contentType).put(SIZE_BYTES, sizeBytes)
      .put(SHA256, sha256).put(GLOBAL, global).put(CHUNKS, new io.vertx.core.json.JsonArray(List.copyOf(chunks))))
      .map(json -> new StoredDocument(Document.fromJson(json.getJsonObject(DOCUMENT)), json.getBoolean(DUPLICATE)));
  }

  /** The user's library and the global documents, or (with a conversation) that conversation's documents. */
  public Future<List<Document>> documents(String userId, String conversationId) {
    return request(DOCUMENT_LIST, new JsonObject().put(USER_ID, userId).put(CONVERSATION_ID, conversationId))
      .map(json -> Json.list(json.getJsonArray(DOCUMENTS), Document::fromJson));
  }

  public Future<Document> document(String userId, String documentId) {
    return request(DOCUMENT_GET, new JsonObject().put(USER_ID, userId).put(DOCUMENT_ID, documentId))
      .map(Document::fromJson);
  }

  public Future<Void> deleteDocument(String userId, String documentId) {
    return request(DOCUMENT_DELETE, new JsonObject().put(USER_ID, userId).put(DOCUMENT_ID, documentId)).mapEmpty();
  }

  /** The passages that best answer {@code query} among those the user may read in the conversation (nullable). */
  public Future<List<Passage>> search(String userId, String conversationId, String query, int limit) {
    return request(KNOWLEDGE_SEARCH, new JsonObject().put(USER_ID, userId).put(CONVERSATION_ID, conversationId)
      .put(QUERY, query).put(LIMIT, limit))
      .map(json -> Json.list(json.getJsonArray(PASSAGES), Passage::fromJson));
  }

  /** Counts one assistant request and its tokens against the user's usage of today (UTC). */
  public Future<Void> recordUsage(String userId, long tokens) {
    return request(USAGE_RECORD, new JsonObject().put(USER_ID, userId).put(TOKENS, tokens)).mapEmpty();
  }

  /** The assistant tokens the user spent today (UTC). */
  public Future<Long> usageToday(String userId) {
    return request(USAGE_TODAY, new JsonObject().put(USER_ID, userId)).map(json -> json.getLong(TOKENS, 0L));
  }

  /** Writes an audit entry; {@code userId} null for an unknown account (then {@code email} says who was tried). */
  public Future<Void> audit(String userId, String email, String action, String targetType, String targetId,
                            String address, JsonObject details) {
    return request(AUDIT_RECORD, new JsonObject().put(USER_ID, userId).put(EMAIL, email).put(AUDIT_ACTION, action)
      .put(TARGET_TYPE, targetType).put(TARGET_ID, targetId).put(ADDRESS, address).put(DETAILS, details)).mapEmpty();
  }

  /** A page of the audit log, newest first: {items, nextBefore}; FORBIDDEN unless the reader is an admin. */
  public Future<JsonObject> auditLog(String userId, Long before, int limit) {
    return request(AUDIT_LIST, new JsonObject().put(USER_ID, userId).put(BEFORE, before).put(LIMIT, limit));
  }

  private static JsonObject about(String userId, String conversationId) {
    return new JsonObject().put(USER_ID, userId).put(CONVERSATION_ID, conversationId);
  }
}
