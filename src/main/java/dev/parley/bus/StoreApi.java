package dev.parley.bus;

/**
 * The contract of {@link Addresses#STORE}: the {@code action} header values and the JSON fields of
 * requests and replies. Every request that concerns a conversation carries the acting {@link #USER_ID}; the
 * store answers NOT_FOUND when that user is not a member, so existence never leaks.
 *
 * <table>
 *   <caption>actions</caption>
 *   <tr><th>action</th><th>request</th><th>reply</th></tr>
 *   <tr><td>user.create</td><td>email, displayName, passwordHash</td><td>{@link User}; CONFLICT if the email is taken</td></tr>
 *   <tr><td>user.bot</td><td>handle, displayName</td><td>{@link User}: the bot {@code handle@bot.invalid}, created on
 *       first use (role {@code bot}, no password), renamed to displayName on later ones; CONFLICT if a person
 *       holds the address</td></tr>
 *   <tr><td>user.credentials</td><td>email</td><td>{user, passwordHash}; NOT_FOUND</td></tr>
 *   <tr><td>user.get</td><td>userId</td><td>{@link User}; NOT_FOUND</td></tr>
 *   <tr><td>conversation.create</td><td>userId, title, assistantMode?, modeIsDefault?, metadata?</td><td>{@link Conversation};
 *       with modeIsDefault, an {@code always} mode becomes {@code mention} once a second member is added</td></tr>
 *   <tr><td>conversation.list</td><td>userId, limit, cursor?</td><td>{items, nextCursor}</td></tr>
 *   <tr><td>conversation.get</td><td>userId, conversationId</td><td>{@link Conversation} with members</td></tr>
 *   <tr><td>conversation.membership</td><td>userId, conversationId</td><td>{@link Conversation} without members: the
 *       cheap check of a join; NOT_FOUND unless a member</td></tr>
 *   <tr><td>conversation.update</td><td>userId, conversationId, title?, assistantMode?, metadata?</td><td>{@link Conversation}; owner only</td></tr>
 *   <tr><td>conversation.delete</td><td>userId, conversationId</td><td>{}; owner only, soft</td></tr>
 *   <tr><td>member.add</td><td>userId, conversationId, memberId or email</td><td>{@link Member}; owner only</td></tr>
 *   <tr><td>member.remove</td><td>userId, conversationId, memberId</td><td>{}; the owner removes anyone else, a member removes itself</td></tr>
 *   <tr><td>message.append</td><td>conversationId, senderId?, role, content, metadata?, clientMsgId?</td><td>{message, duplicate,
 *       assistantMode}</td></tr>
 *   <tr><td>message.list</td><td>userId, conversationId, after?, before?, limit</td><td>{messages, hasMore}</td></tr>
 *   <tr><td>message.edit</td><td>userId, conversationId, messageId, content</td><td>{@link ChatMessage}; sender only</td></tr>
 *   <tr><td>message.delete</td><td>userId, conversationId, messageId</td><td>{@link ChatMessage} tombstone; sender or owner</td></tr>
 *   <tr><td>member.read</td><td>userId, conversationId, seq</td><td>{lastReadSeq}: the member's read marker, moved forward
 *       to seq (never back, never past the last message)</td></tr>
 *   <tr><td>message.since</td><td>conversationId, after, limit</td><td>{messages, lastSeq}: up to limit messages after
 *       the seq {@code after}, ascending, and the conversation's last seq. Trusted: no membership check (the
 *       node's room fan-out uses it to fill gaps)</td></tr>
 *   <tr><td>document.create</td><td>userId, conversationId?, title, filename, contentType, sizeBytes, sha256, global,
 *       chunks [text]</td><td>{document, duplicate}: {@link Document}; the same file in the same place again stores
 *       nothing (duplicate true). NOT_FOUND outside the conversation, FORBIDDEN global unless admin</td></tr>
 *   <tr><td>document.list</td><td>userId, conversationId?</td><td>{documents}: the user's library and the global
 *       documents, or the conversation's</td></tr>
 *   <tr><td>document.get</td><td>userId, documentId</td><td>{@link Document}; NOT_FOUND unless readable</td></tr>
 *   <tr><td>document.delete</td><td>userId, documentId</td><td>{}; the owner or an admin</td></tr>
 *   <tr><td>knowledge.search</td><td>userId, conversationId?, query, limit</td><td>{passages: [{@link Passage}]}:
 *       only what the user may read</td></tr>
 *   <tr><td>usage.record</td><td>userId, tokens</td><td>{}: one assistant request and its tokens, today (UTC)</td></tr>
 *   <tr><td>usage.today</td><td>userId</td><td>{requests, tokens} of today (UTC)</td></tr>
 *   <tr><td>audit.record</td><td>userId?, email?, auditAction, targetType?, targetId?, address?, details?</td><td>{}</td></tr>
 *   <tr><td>audit.list</td><td>userId, before?, limit</td><td>{items, nextBefore}; FORBIDDEN unless admin</td></tr>
 *   <tr><td>ping</td><td>{}</td><td>{} once PostgreSQL answers</td></tr>
 * </table>
 *
 * <p>Every change is published on {@link Addresses#roomAddress(String)} after its transaction commits: a stored
 * message as {@code message}, an edit as {@code edited}, a deletion as {@code deleted}, a read marker as
 * {@code read}, a membership change as {@code member}, a changed or deleted conversation as {@code conversation}
 * (see {@link RoomEvents}).
 */
public final class StoreApi {

  public static final String USER_CREATE = "user.create";
  public static final String USER_BOT = "user.bot";
  public static final String USER_CREDENTIALS = "user.credentials";
  public static final String USER_GET = "user.get";
  public static final String CONVERSATION_CREATE = "conversation.create";
  public static final String CONVERSATION_LIST = "conversation.list";
  public static final String CONVERSATION_GET = "conversation.get";
  public static final String CONVERSATION_MEMBERSHIP = "conversation.membership";
  public static final String CONVERSATION_UPDATE = "conversation.update";
  public static final String CONVERSATION_DELETE = "conversation.delete";
  public static final String MEMBER_ADD = "member.add";
  public static final String MEMBER_REMOVE = "member.remove";
  public static final String MESSAGE_APPEND = "message.append";
  public static final String MESSAGE_LIST = "message.list";
  public static final String MESSAGE_EDIT = "message.edit";
  public static final String MESSAGE_DELETE = "message.delete";
  public static final String MEMBER_READ = "member.read";
  public static final String MESSAGE_SINCE = "message.since";
  public static final String DOCUMENT_CREATE = "document.create";
  public static final String DOCUMENT_LIST = "document.list";
  public static final String DOCUMENT_GET = "document.get";
  public static final String DOCUMENT_DELETE = "document.delete";
  public static final String KNOWLEDGE_SEARCH = "knowledge.search";
  public static final String USAGE_RECORD = "usage.record";
  public static final String USAGE_TODAY = "usage.today";
  public static final String AUDIT_RECORD = "audit.record";
  public static final String AUDIT_LIST = "audit.list";

  public static final String USER_ID = "userId";
  public static final String USER = "user";
  public static final String EMAIL = "email";
  public static final String HANDLE = "handle";
  public static final String DISPLAY_NAME = "displayName";
  public static final String PASSWORD_HASH = "passwordHash";
  public static final String CONVERSATION_ID = "conversationId";
  public static final String TITLE = "title";
  public static final String ASSISTANT_MODE = "assistantMode";
  public static final String MODE_IS_DEFAULT = "modeIsDefault";
  public static final String METADATA = "metadata";
  public static final String LIMIT = "limit";
  public static final String CURSOR = "cursor";
  public static final String ITEMS = "items";
  public static final String NEXT_CURSOR = "nextCursor";
  public static final String MEMBER_ID = "memberId";
  public static final String SENDER_ID = "senderId";
  public static final String ROLE = "role";
  public static final String CONTENT = "content";
  public static final String CLIENT_MSG_ID = "clientMsgId";
  public static final String MESSAGE = "message";
  public static final String DUPLICATE = "duplicate";
  public static final String AFTER = "after";
  public static final String BEFORE = "before";
  public static final String MESSAGES = "messages";
  public static final String HAS_MORE = "hasMore";
  public static final String MESSAGE_ID = "messageId";
  public static final String SEQ = "seq";
  public static final String LAST_READ_SEQ = "lastReadSeq";
  public static final String LAST_SEQ = "lastSeq";
  public static final String DOCUMENT = "document";
  public static final String DOCUMENTS = "documents";
  public static final String DOCUMENT_ID = "documentId";
  public static final String FILENAME = "filename";
  public static final String CONTENT_TYPE = "contentType";
  public static final String SIZE_BYTES = "sizeBytes";
  public static final String SHA256 = "sha256";
  public static final String GLOBAL = "global";
  public static final String CHUNKS = "chunks";
  public static final String QUERY = "query";
  public static final String PASSAGES = "passages";
  public static final String TOKENS = "tokens";
  public static final String AUDIT_ACTION = "auditAction";
  public static final String TARGET_TYPE = "targetType";
  public static final String TARGET_ID = "targetId";
  public static final String ADDRESS = "address";
  public static final String DETAILS = "details";
  public static final String REQUESTS = "requests";

  private StoreApi() {
  }
}
