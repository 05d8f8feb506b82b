package dev.parley.ingress;

import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.PresenceApi;
import dev.parley.bus.RoomEvents;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * WebSocket protocol v1 (DESIGN.md §4, README "Real time"): the frame types a client sends, the frames only the
 * server sends (room events are in {@link RoomEvents}), their fields, and the close codes. Close codes follow
 * the usual split: 4000–4499 mean "reconnect", 4500–4999 "do not".
 */
final class Frames {

  // Client → server
  static final String AUTH = "auth";
  static final String JOIN = "join";
  static final String LEAVE = "leave";
  static final String MESSAGE = "message";
  static final String TYPING = "typing";
  static final String STOP = "stop";
  static final String READ = "read";
  static final String PING = "ping";

  // Server → client (besides the room events)
  static final String CONNECTION = "connection";
  static final String JOINED = "joined";
  static final String LEFT = "left";
  static final String ACK = "ack";
  static final String RESUMED = "resumed";
  static final String ERROR = "error";
  static final String PONG = "pong";

  static final String TYPE = RoomEvents.TYPE;
  static final String TOKEN = "token";
  static final String CONVERSATION_ID = "conversationId";
  static final String NEW_CONVERSATION = "new";
  static final String LAST_SEQ = "lastSeq";
  static final String CONTENT = "content";
  static final String CLIENT_MSG_ID = "clientMsgId";
  static final String METADATA = "metadata";
  static final String SEQ = "seq";
  static final String REQUEST_ID = "requestId";
  static final String CODE = "code";
  static final String MESSAGE_TEXT = "message";
  static final String RETRY_AFTER_MS = "retryAfterMs";
  static final String REASON = "reason";
  static final String FROM_SEQ = "fromSeq";
  static final String TO_SEQ = "toSeq";
  static final String PRESENCE_COUNT = "presenceCount";
  static final String PRESENCE_TRUNCATED = "presenceTruncated";

  /** Unauthenticated: no valid token in time (RFC 6455 "policy violation"). */
  static final short CLOSE_UNAUTHENTICATED = 1008;
  /** A frame or message over {@code WS_MAX_FRAME_BYTES} (RFC 6455 "message too big"). */
  static final short CLOSE_TOO_BIG = 1009;
  /** The node is shutting down: reconnect, to any node (RFC 6455 "service restart"). */
  static final short CLOSE_RESTART = 1012;
  /** The token expired: reconnect with a fresh one. */
  static final short CLOSE_TOKEN_EXPIRED = 4001;
  /** The client read too slowly and fell too far behind: reconnect and resume with {@code lastSeq}. */
  static final short CLOSE_SLOW_CONSUMER = 4002;
  /** Nothing heard from the client for two heartbeat intervals. */
  static final short CLOSE_NO_HEARTBEAT = 4003;

  private Frames() {
  }

  static JsonObject frame(String type) {
    return new JsonObject().put(TYPE, type);
  }

  static JsonObject error(ParleyException failure, String conversationId, String clientMsgId) {
    JsonObject frame = frame(ERROR).put(CODE, failure.code().name()).put(MESSAGE_TEXT, failure.getMessage());
    if (conversationId != null) {
      frame.put(CONVERSATION_ID, conversationId);
    }
    if (clientMsgId != null) {
      frame.put(CLIENT_MSG_ID, clientMsgId);
    }
    if (failure.retryAfterMs() != null) {
      frame.put(RETRY_AFTER_MS, failure.retryAfterMs());
    }
    return frame;
  }

  static JsonObject error(ErrorCode code, String message) {
    return error(new ParleyException(code, message), null, null);
  }

  /**
   * @param presence {users, count, truncated} from presence (empty when it is unusable): at most
   *                 {@code PRESENCE_MAX_LISTED} users, and how many are online in all
   */
  static JsonObject joined(String conversationId, long lastSeq, JsonObject presence) {
    JsonArray users = presence.getJsonArray(PresenceApi.USERS, new JsonArray());
    return frame(JOINED).put(CONVERSATION_ID, conversationId).put(LAST_SEQ, lastSeq).put(RoomEvents.PRESENCE, users)
      .put(PRESENCE_COUNT, presence.getLong(PresenceApi.COUNT, (long) users.size()))
      .put(PRESENCE_TRUNCATED, presence.getBoolean(PresenceApi.TRUNCATED, false));
  }

  static JsonObject resumed(String conversationId, long fromSeq, long toSeq, boolean truncated) {
    return frame(RESUMED).put(CONVERSATION_ID, conversationId).put(FROM_SEQ, fromSeq).put(TO_SEQ, toSeq)
      .put("truncated", truncated);
  }

  static JsonObject left(String conversationId, String reason) {
    return frame(LEFT).put(CONVERSATION_ID, conversationId).put(REASON, reason);
  }

  /**
   * A text frame of already-encoded JSON. Vert.x's public API builds text frames only from a String, which
   * would encode the same event again for every socket; this frame shares the bytes of {@code json} (a slice,
   * no copy), so a room event is encoded once per node, whatever the number of sockets.
   */
  static WebSocketFrame text(Buffer json) {
    return new WebSocketFrameImpl(WebSocketFrameType.TEXT, ((BufferInternal) json).getByteBuf(), true);
  }
}
