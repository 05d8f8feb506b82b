package dev.parley.bus;

/**
 * The contract of {@link Addresses#PRESENCE}: cluster-wide presence and rate limits, kept in Redis. A
 * "connection" is one socket (or SSE stream) joined to one conversation; a user is online in a room while
 * any of its connections is.
 *
 * <table>
 *   <caption>actions</caption>
 *   <tr><th>action</th><th>request</th><th>reply</th></tr>
 *   <tr><td>presence.connect</td><td>conversationId, connectionId, user {id, displayName}</td><td>{}; publishes
 *       {@code presence online} when it is the user's first connection to the room (in a room of more than
 *       {@code PRESENCE_MAX_LISTED} users online, an {@code occupancy} frame within a second instead)</td></tr>
 *   <tr><td>presence.disconnect</td><td>conversationId, connectionId</td><td>{}; publishes {@code presence offline}
 *       when it was the user's last (or, in a crowded room, {@code occupancy})</td></tr>
 *   <tr><td>presence.refresh</td><td>connections: [{conversationId, connectionId, user}]</td><td>{}; extends each
 *       connection's expiry (a node's heartbeat), re-adding any Redis lost</td></tr>
 *   <tr><td>presence.list</td><td>conversationId, limit? (1 to 10,000; {@code PRESENCE_MAX_LISTED})</td><td>{users:
 *       [{id, displayName, connections}] (at most limit), count (users online), truncated}</td></tr>
 *   <tr><td>answer.append</td><td>conversationId, requestId, offset, content</td><td>{}: a piece of an answer being
 *       written, kept so that a member who joins mid-answer gets the text so far</td></tr>
 *   <tr><td>answer.end</td><td>conversationId, requestId</td><td>{}: the answer is stored or failed</td></tr>
 *   <tr><td>answer.progress</td><td>conversationId</td><td>{answers: [{requestId, content}]}: the text so far of
 *       each answer being written in the room</td></tr>
 *   <tr><td>context.get</td><td>conversationId, userId</td><td>{context?, source?}: cached contributed context</td></tr>
 *   <tr><td>context.put</td><td>conversationId, userId, context, source?, ttlSeconds</td><td>{}</td></tr>
 *   <tr><td>rate.check</td><td>kind ({@code message} or {@code assistant}), userId</td><td>{allowed, retryAfterMs}</td></tr>
 *   <tr><td>ping</td><td>{}</td><td>{} once Redis answers</td></tr>
 * </table>
 *
 * <p>A connection not refreshed within {@code PRESENCE_TTL_MS} (its node crashed) is swept by any presence
 * service of the cluster, which publishes the {@code offline} event.
 */
public final class PresenceApi {

  public static final String CONNECT = "presence.connect";
  public static final String DISCONNECT = "presence.disconnect";
  public static final String REFRESH = "presence.refresh";
  public static final String LIST = "presence.list";
  public static final String RATE_CHECK = "rate.check";
  public static final String ANSWER_APPEND = "answer.append";
  public static final String ANSWER_END = "answer.end";
  public static final String ANSWER_PROGRESS = "answer.progress";
  public static final String CONTEXT_GET = "context.get";
  public static final String CONTEXT_PUT = "context.put";

  public static final String CONVERSATION_ID = "conversationId";
  public static final String CONNECTION_ID = "connectionId";
  public static final String CONNECTIONS = "connections";
  public static final String USER = "user";
  public static final String USERS = "users";
  public static final String COUNT = "count";
  public static final String TRUNCATED = "truncated";
  public static final String LIMIT = "limit";
  /** The most users one {@code presence.list} lists. */
  public static final int MAX_LIMIT = 10_000;
  public static final String KIND = "kind";
  public static final String USER_ID = "userId";
  public static final String ALLOWED = "allowed";
  public static final String RETRY_AFTER_MS = "retryAfterMs";
  public static final String REQUEST_ID = "requestId";
  public static final String OFFSET = "offset";
  public static final String CONTENT = "content";
  public static final String ANSWERS = "answers";
  public static final String CONTEXT = "context";
  public static final String SOURCE = "source";
  public static final String TTL_SECONDS = "ttlSeconds";

  public static final String KIND_MESSAGE = "message";
  public static final String KIND_ASSISTANT = "assistant";

  private PresenceApi() {
  }
}
