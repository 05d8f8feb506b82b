package dev.parley.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The events published on {@link Addresses#roomAddress(String)}. Each body is the protocol v1 server frame that
 * clients receive, already encoded as JSON text (a {@link Buffer}), so a node writes the same bytes to all its
 * sockets without decoding or encoding anything. The headers {@link #TYPE_HEADER} and {@link #SEQ_HEADER} say
 * what the frame is without parsing it.
 *
 * <table>
 *   <caption>room events</caption>
 *   <tr><th>type</th><th>fields</th><th>when</th></tr>
 *   <tr><td>message</td><td>the {@link ChatMessage} fields</td><td>a message was stored (after commit); has a seq</td></tr>
 *   <tr><td>edited</td><td>the {@link ChatMessage} fields, with {@code editedAt}</td><td>a message was edited</td></tr>
 *   <tr><td>deleted</td><td>the {@link ChatMessage} tombstone ({@code deleted: true})</td><td>a message was deleted</td></tr>
 *   <tr><td>typing</td><td>conversationId, user {id, displayName}, typing, expiresInMs</td><td>ephemeral, never stored</td></tr>
 *   <tr><td>presence</td><td>conversationId, user, state ({@code online}/{@code offline})</td><td>a user's first connection to the room / last one gone</td></tr>
 *   <tr><td>occupancy</td><td>conversationId, count, users? (all of them, when no more than {@code PRESENCE_MAX_LISTED})</td><td>instead of
 *       {@code presence}, in a room with more users online than are listed by name; at most once a second</td></tr>
 *   <tr><td>read</td><td>conversationId, user, seq</td><td>a member's read marker moved</td></tr>
 *   <tr><td>member</td><td>conversationId, user, change ({@code added}/{@code removed})</td><td>membership changed</td></tr>
 *   <tr><td>conversation</td><td>conversationId, change ({@code updated}/{@code deleted})</td><td>the room itself changed</td></tr>
 *   <tr><td>status</td><td>conversationId, requestId, step, message</td><td>the assistant is at a step of its answer</td></tr>
 *   <tr><td>chunk</td><td>conversationId, requestId, content, offset</td><td>the next piece of the answer; {@code offset}
 *       is the length of the text before it</td></tr>
 *   <tr><td>complete</td><td>conversationId, requestId, message (stored, with seq), metadata</td><td>the answer is
 *       stored</td></tr>
 *   <tr><td>error</td><td>conversationId, requestId, code, message</td><td>the answer failed; nothing was stored</td></tr>
 * </table>
 */
public final class RoomEvents {

  /** Every frame names its kind in this field. */
  public static final String TYPE = "type";
  public static final String TYPE_HEADER = "type";
  /** The message's seq, on {@code message} events only. */
  public static final String SEQ_HEADER = "seq";
  /** The assistant request an event belongs to, on {@code status}, {@code chunk}, {@code complete}, {@code error}. */
  public static final String REQUEST_HEADER = "requestId";
  /** The message's id, on {@code message} events only: to follow a message through the logs of every node. */
  public static final String ID_HEADER = "id";
  /** When the event was published (epoch ms, the publisher's clock): for the fan-out latency metric. */
  public static final String TIME_HEADER = "ts";

  public static final String MESSAGE = "message";
  public static final String EDITED = "edited";
  public static final String DELETED = "deleted";
  public static final String TYPING = "typing";
  public static final String PRESENCE = "presence";
  public static final String OCCUPANCY = "occupancy";
  public static final String READ = "read";
  public static final String MEMBER = "member";
  public static final String CONVERSATION = "conversation";
  public static final String STATUS = "status";
  public static final String CHUNK = "chunk";
  public static final String COMPLETE = "complete";
  public static final String ERROR = "error";

  public static final String CONVERSATION_ID = "conversationId";
  public static final String USER = "user";
  public static final String USER_ID = "id";
  public static final String USER_NAME = "displayName";
  public static final String STATE = "state";
  public static final String COUNT = "count";
  public static final String USERS = "users";
  public static final String ONLINE = "online";
  public static final String OFFLINE = "offline";
  public static final String SEQ = "seq";
  public static final String CHANGE = "change";
  public static final String ADDED = "added";
  public static final String REMOVED = "removed";
  public static final String UPDATED = "updated";
  public static final String EXPIRES_IN_MS = "expiresInMs";
  public static final String REQUEST_ID = "requestId";
  public static final String STEP = "step";
  public static final String MESSAGE_TEXT = "message";
  public static final String CONTENT = "content";
  public static final String OFFSET = "offset";
  public static final String METADATA = "metadata";
  public static final String CODE = "code";

  private RoomEvents() {
  }

  /** The {@code user} object of frames: who, as other members may see them. */
  public static JsonObject user(String id, String displayName) {
    return new JsonObject().put(USER_ID, id).put(USER_NAME, displayName);
  }

  public static JsonObject message(ChatMessage message) {
    return message.toJson().put(TYPE, MESSAGE);
  }

  public static JsonObject changed(String type, ChatMessage message) {
    return message.toJson().put(TYPE, type);
  }

  public static JsonObject typing(String conversationId, JsonObject user, boolean typing, long expiresInMs) {
    return new JsonObject().put(TYPE, TYPING).put(CONVERSATION_ID, conversationId).put(USER, user)
      .put(TYPING, typing).put(EXPIRES_IN_MS, expiresInMs);
  }

  public static JsonObject presence(String conversationId, JsonObject user, boolean online) {
    return new JsonObject().put(TYPE, PRESENCE).put(CONVERSATION_ID, conversationId).put(USER, user)
      .put(STATE, online ? ONLINE : OFFLINE);
  }

  /** @param users everyone online, or null when there are too many to list */
  public static JsonObject occupancy(String conversationId, long count, JsonArray users) {
    JsonObject frame = new JsonObject().put(TYPE, OCCUPANCY).put(CONVERSATION_ID, conversationId).put(COUNT, count);
    return users == null ? frame : frame.put(USERS, users);
  }

  public static JsonObject read(String conversationId, JsonObject user, long seq) {
    return new JsonObject().put(TYPE, READ).put(CONVERSATION_ID, conversationId).put(USER, user).put(SEQ, seq);
  }

  public static JsonObject member(String conversationId, JsonObject user, String change) {
    return new JsonObject().put(TYPE, MEMBER).put(CONVERSATION_ID, conversationId).put(USER, user).put(CHANGE, change);
  }

  public static JsonObject conversation(String conversationId, String change) {
    return new JsonObject().put(TYPE, CONVERSATION).put(CONVERSATION_ID, conversationId).put(CHANGE, change);
  }

  public static JsonObject status(String conversationId, String requestId, String step, String message) {
    return new JsonObject().put(TYPE, STATUS).put(CONVERSATION_ID, conversationId).put(REQUEST_ID, requestId)
      .put(STEP, step).put(MESSAGE_TEXT, message);
  }

  public static JsonObject chunk(String conversationId, String requestId, String content, long offset) {
    return new JsonObject().put(TYPE, CHUNK).put(CONVERSATION_ID, conversationId).put(REQUEST_ID, requestId)
      .put(CONTENT, content).put(OFFSET, offset);
  }

  public static JsonObject complete(String conversationId, String requestId, ChatMessage message, JsonObject metadata) {
    return new JsonObject().put(TYPE, COMPLETE).put(CONVERSATION_ID, conversationId).put(REQUEST_ID, requestId)
      .put(MESSAGE_TEXT, message.toJson()).put(METADATA, metadata);
  }

  public static JsonObject error(String conversationId, String requestId, ErrorCode code, String message) {
    return new JsonObject().put(TYPE, ERROR).put(CONVERSATION_ID, conversationId).put(REQUEST_ID, requestId)
      .put(CODE, code.name()).put(MESSAGE_TEXT, message);
  }

  /** Publishes a frame to its room: encoded once here, with its type (and seq, for messages) in headers. */
  public static void publish(EventBus bus, String conversationId, JsonObject frame) {
    DeliveryOptions options = new DeliveryOptions().addHeader(TYPE_HEADER, frame.getString(TYPE))
      .addHeader(TIME_HEADER, Long.toString(System.currentTimeMillis()));
    Long seq = MESSAGE.equals(frame.getString(TYPE)) ? frame.getLong(SEQ) : null;
    if (seq != null) {
      options.addHeader(SEQ_HEADER, Long.toString(seq)).addHeader(ID_HEADER, frame.getString(ChatMessage.ID));
    }
    String requestId = frame.getString(REQUEST_ID);
    if (requestId != null) {
      options.addHeader(REQUEST_HEADER, requestId);
    }
    bus.publish(Addresses.roomAddress(conversationId), frame.toBuffer(), options);
  }

  /** The seq of a received room event, 0 for events that have none. */
  public static long seq(Message<?> event) {
    String seq = event.headers().get(SEQ_HEADER);
    return seq == null ? 0 : Long.parseLong(seq);
  }
}
