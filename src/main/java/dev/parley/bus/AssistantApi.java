package dev.parley.bus;

/**
 * The contract of {@link Addresses#ASSISTANT} (request/reply, load-balanced over the cluster's assistant
 * services) and {@link #CONTROL} (publish, reaches every assistant service).
 *
 * <table>
 *   <caption>actions</caption>
 *   <tr><th>action</th><th>request</th><th>reply</th></tr>
 *   <tr><td>assistant.ask</td><td>conversationId, userId, displayName, messageId, seq, content, admitted?</td><td>{requestId} once the
 *       request is accepted, or {error: {code, message, retryAfterMs}} when refused over the per-minute limit or
 *       the daily token quota (RATE_LIMIT); the answer then
 *       streams to the room as {@code status}, {@code chunk} and {@code complete} events</td></tr>
 *   <tr><td>ping</td><td>{}</td><td>{provider, breaker?}</td></tr>
 * </table>
 *
 * <p>On {@link #CONTROL}, {@code {action: "assistant.stop", conversationId, requestId?}} stops the answers being
 * written in that room (or just that one): each keeps what it wrote so far, stored with {@code stopped: true}.
 */
public final class AssistantApi {

  public static final String CONTROL = "parley.assistant.control";
  /**
   * Context contributed by other verticles: request {conversationId, userId, question}, reply {context, source?,
   * ttlSeconds?}. Asked before an answer is written, with a short timeout; no contributor, a failure or a late
   * reply means no context. The reply is cached in Redis per conversation and user for {@code ttlSeconds}
   * (default 60). If several verticles register, each request goes to one of them.
   */
  public static final String CONTEXT = Addresses.ASSISTANT_CONTEXT;

  public static final String ASK = "assistant.ask";
  public static final String STOP = "assistant.stop";

  public static final String ACTION = "action";
  public static final String CONVERSATION_ID = "conversationId";
  public static final String USER_ID = "userId";
  public static final String DISPLAY_NAME = "displayName";
  public static final String MESSAGE_ID = "messageId";
  public static final String SEQ = "seq";
  public static final String CONTENT = "content";
  public static final String REQUEST_ID = "requestId";
  public static final String PROVIDER = "provider";
  /** The caller already counted this request against the assistant's rate limit (POST /api/chat does). */
  public static final String ADMITTED = "admitted";
  public static final String QUESTION = "question";
  public static final String CONTEXT_TEXT = "context";
  public static final String SOURCE = "source";
  public static final String TTL_SECONDS = "ttlSeconds";
  /** The provider's circuit breaker: closed, open or half_open (providers that call out only). */
  public static final String BREAKER = "breaker";
  /** A refusal that says when to retry comes as a reply {error: {code, message, retryAfterMs}}. */
  public static final String ERROR = "error";
  public static final String CODE = "code";
  public static final String MESSAGE = "message";
  public static final String RETRY_AFTER_MS = "retryAfterMs";

  private AssistantApi() {
  }
}
