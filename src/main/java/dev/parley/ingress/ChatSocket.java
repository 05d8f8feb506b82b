package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.PresenceApi;
import dev.parley.bus.StoreClient;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

/**
 * A WebSocket speaking protocol v1: reads client frames, answers them, and writes room events. A bad frame
 * gets an {@code error} frame and the socket stays open; nothing of a bad frame is stored.
 */
final class ChatSocket extends Session {

  private static final int MAX_ID = 64;
  private static final int MAX_CLIENT_MSG_ID = 64;
  private static final String DEFAULT_TITLE = "New conversation";
  private static final String MODE_FOR_NEW = "always";
  /** The longest a socket over the message limit goes unread (pongs wait too: well under the heartbeat). */
  static final long MAX_HOLD_BACK_MS = 1_000;
  /**
   * Messages of one socket between read and answer (being handled, or waiting for a place on the event loop); past
   * it the socket is not read until one is answered, so a burst waits in TCP instead of in the node's queues.
   */
  static final int MAX_IN_FLIGHT = 32;

  private final ServerWebSocket ws;
  private final String initialRoom;
  private final Long initialLastSeq;
  private long lastSeen = System.currentTimeMillis();
  private long authTimer = -1;
  private long expiryTimer = -1;
  private final SocketMessages messages;
  /** Completes once the last message read has gone to the store, or failed before it. */
  private Future<Void> handedToStore = Future.succeededFuture();
  private boolean draining;
  private Promise<Void> idle;
  /** Not reading: the last message was over the rate limit. */
  private boolean heldBack;
  /** When (System.currentTimeMillis) the last message was refused for the rate limit; 0: never. */
  private long refusedAt;
  /** Whether the socket is being read (see {@link #updateReading}). */
  private boolean reading = true;

  ChatSocket(Realtime realtime, Context context, ServerWebSocket ws, AuthenticatedUser user, String initialRoom,
             Long initialLastSeq) {
    super(realtime, context);
    this.ws = ws;
    this.user = user;
    this.initialRoom = initialRoom;
    this.initialLastSeq = initialLastSeq;
    this.messages = new SocketMessages(realtime, this);
  }

  void start() {
    ws.textMessageHandler(this::onText);
    ws.binaryMessageHandler(binary -> {
      lastSeen = System.currentTimeMillis();
      writeFrame(Frames.error(ErrorCode.INVALID_INPUT, "binary frames are not part of the protocol: send JSON text"));
    });
    ws.pongHandler(pong -> lastSeen = System.currentTimeMillis());
    ws.drainHandler(v -> drained());
    ws.exceptionHandler(failure -> {
      // Vert.x refuses a message over WS_MAX_FRAME_BYTES with this exception and drops it; the socket closes.
      if (failure instanceof IllegalStateException && String.valueOf(failure.getMessage()).contains("max message size")) {
        close(Frames.CLOSE_TOO_BIG, "frame larger than " + realtime.config().maxFrameBytes() + " bytes");
      } else {
        realtime.logDebug("socket " + connectionId + " failed: " + failure.getMessage());
      }
    });
    ws.closeHandler(v -> onClose());
    if (user != null) {
      authenticated(user);
    } else {
      authTimer = realtime.vertx().setTimer(realtime.config().authTimeoutMs(), t -> {
        authTimer = -1;
        if (user == null) {
          unauthenticated("no auth frame within " + realtime.config().authTimeoutMs() + " ms");
        }
      });
    }
  }

  private void authenticated(AuthenticatedUser verified) {
    user = verified;
    if (authTimer >= 0) {
      realtime.vertx().cancelTimer(authTimer);
      authTimer = -1;
    }
    if (expiryTimer >= 0) {
      realtime.vertx().cancelTimer(expiryTimer);
    }
    long untilExpiry = Math.max(0, verified.expiresAt() * 1000 - System.currentTimeMillis());
    expiryTimer = realtime.vertx().setTimer(Math.max(1, untilExpiry), t -> {
      expiryTimer = -1;
      close(Frames.CLOSE_TOKEN_EXPIRED, "token expired: reconnect with a fresh one");
    });
    writeFrame(Frames.frame(Frames.CONNECTION)
      .put("connectionId", connectionId)
      .put("user", userJson().put("email", verified.email()))
      .put("node", realtime.nodeName())
      .put("heartbeatMs", realtime.config().pingIntervalMs())
      .put("expiresAt", verified.expiresAt())
      .put("protocol", 1));
  }

  private void unauthenticated(String why) {
    writeFrame(Frames.error(ErrorCode.UNAUTHORIZED, why));
    close(Frames.CLOSE_UNAUTHENTICATED, "unauthenticated");
  }

  private void onText(String text) {
    lastSeen = System.currentTimeMillis();
    if (closed || draining) {
      return;
    }
    JsonObject frame;
    try {
      Object parsed = Json.decodeValue(text);
      if (!(parsed instanceof JsonObject object)) {
        writeFrame(Frames.error(ErrorCode.INVALID_INPUT, "a frame must be a JSON object with a type"));
        return;
      }
      frame = object;
    } catch (DecodeException e) {
      writeFrame(Frames.error(ErrorCode.INVALID_INPUT, "the frame is not valid JSON"));
      return;
    }
    Object type = frame.getValue(Frames.TYPE);
    if (!(type instanceof String kind)) {
      writeFrame(Frames.error(ErrorCode.INVALID_INPUT, "type is required and must be a string"));
      return;
    }
    if (user == null && !Frames.AUTH.equals(kind)) {
      unauthenticated("authenticate first: send {\"type\":\"auth\",\"token\":\"…\"}");
      return;
    }
    String room = frame.getValue(Frames.CONVERSATION_ID) instanceof String id ? id : null;
    String clientMsgId = frame.getValue(Frames.CLIENT_MSG_ID) instanceof String id ? id : null;
    try {
      dispatch(kind, frame);
    } catch (RuntimeException e) {
      fail(e, room, clientMsgId);
    }
  }

  private void dispatch(String type, JsonObject frame) {
    switch (type) {
      case Frames.AUTH -> auth(frame);
      case Frames.JOIN -> join(frame);
      case Frames.LEAVE -> {
        String room = conversationId(frame);
        leave(room);
        writeFrame(Frames.left(room, "left"));
      }
      case Frames.MESSAGE -> message(frame);
      case Frames.TYPING -> typing(conversationId(frame), bool(frame, Frames.TYPING));
      case Frames.READ -> read(frame);
      case Frames.STOP -> stop(frame);
      case Frames.PING -> writeFrame(Frames.frame(Frames.PONG));
      default -> throw ParleyException.invalid("unknown frame type '" + type + "'");
    }
  }

  /** The first {@code auth} authenticates; a later one renews the token of the same user. */
  private void auth(JsonObject frame) {
    String token = Inputs.string(frame, Frames.TOKEN, true, 8192);
    realtime.tokens().verify(token).onComplete(done -> {
      if (closed) {
        return;
      }
      if (done.failed()) {
        if (user == null) {
          unauthenticated(done.cause().getMessage());
        } else {
          fail(done.cause(), null, null);
        }
      } else if (user != null && !user.id().equals(done.result().id())) {
        fail(ParleyException.forbidden("a socket cannot change its user"), null, null);
      } else {
        boolean first = user == null;
        authenticated(done.result());
        if (first && initialRoom != null) {
          joinReporting(initialRoom, initialLastSeq);
        }
      }
    });
  }

  /** After the upgrade: joins the room of {@code /ws/chat/{id}} when the token came with the upgrade. */
  void joinInitialRoom() {
    if (user != null && initialRoom != null) {
      joinReporting(initialRoom, initialLastSeq);
    }
  }

  private void join(JsonObject frame) {
    String room = conversationId(frame);
    Long lastSeq = Inputs.seq(frame, Frames.LAST_SEQ);
    if (Frames.NEW_CONVERSATION.equals(room)) {
      realtime.store().createConversation(user.id(), DEFAULT_TITLE, MODE_FOR_NEW, true, new JsonObject())
        .onSuccess(created -> joinReporting(created.id(), null))
        .onFailure(failure -> fail(failure, null, null));
      return;
    }
    joinReporting(room, lastSeq);
  }

  private void joinReporting(String room, Long lastSeq) {
    join(room, lastSeq).onFailure(failure -> {
      if (!closed) {
        fail(failure, room, null);
      }
    });
  }

  private void message(JsonObject frame) {
    String room = conversationId(frame);
    String clientMsgId = Inputs.string(frame, Frames.CLIENT_MSG_ID, false, MAX_CLIENT_MSG_ID);
    String content = Inputs.content(frame, Frames.CONTENT, realtime.maxMessageChars(),
      realtime.config().maxMessageBytes());
    JsonObject metadata = Inputs.metadata(frame, Frames.METADATA);
    realtime.meters().received.increment();
    messages.add(room, clientMsgId, handled -> handle(handled, room, clientMsgId, content, metadata));
    updateReading();
  }

  /** Its turn for the oldest message waiting (see {@link MessagePlaces}); true when none is left waiting. */
  boolean startWaiting() {
    messages.startOne();
    updateReading();
    return !messages.anyWaiting();
  }

  /** Rate check, store, answer; however it ends (even by an exception), the message gives its place back. */
  private void handle(SocketMessages.Message handled, String room, String clientMsgId, String content,
                      JsonObject metadata) {
    handled.step = "the rate check";
    // The rate checks of a socket's messages run at once, on several Redis connections, and may come back in any
    // order: each message goes to the store only once the one read before it has gone (or failed), so that a
    // sender's messages are stored in the order they were sent.
    Future<Void> before = handedToStore;
    Promise<Void> handed = Promise.promise();
    handedToStore = handed.future();
    Future<StoreClient.Appended> appended = Future.succeededFuture()
      .compose(go -> realtime.presence().checkRate(PresenceApi.KIND_MESSAGE, user.id()))
      .transform(rate -> {
        handled.step = "the message before it";
        return before.transform(ignored -> rate.succeeded() ? Future.<Void>succeededFuture()
          : Future.<Void>failedFuture(rate.cause()));
      })
      .compose(allowed -> {
        handled.step = "the store";
        Future<StoreClient.Appended> stored = realtime.store().append(room, user.id(), ChatMessage.ROLE_USER, content,
          metadata == null ? new JsonObject() : metadata, clientMsgId);
        handed.tryComplete();
        return stored;
      });
    appended.onComplete(done -> {
      // Nothing may escape: this can run inside another message's completion, or while places are handed out.
      try {
        answer(done, room, clientMsgId);
      } catch (RuntimeException e) {
        realtime.logInternal(e);
      } finally {
        try {
          handed.tryComplete();
          messages.finished(handled);
          updateReading();
          idleWhenDone();
        } finally {
          realtime.places().settled();
        }
      }
    });
  }

  private void answer(AsyncResult<StoreClient.Appended> done, String room, String clientMsgId) {
    if (done.succeeded()) {
      ChatMessage stored = done.result().message();
      realtime.meters().trail.accepted(stored, done.result().duplicate(), "websocket");
      writeFrame(Frames.frame(Frames.ACK)
        .put(Frames.CLIENT_MSG_ID, clientMsgId)
        .put(Frames.CONVERSATION_ID, room)
        .put(ChatMessage.ID, stored.id())
        .put(Frames.SEQ, stored.seq())
        .put(ChatMessage.CREATED_AT, stored.createdAt())
        .put("duplicate", done.result().duplicate()));
      realtime.assistant().after(done.result(), user).onFailure(refused -> {
        if (!closed) {
          fail(refused, room, clientMsgId);
        }
      });
    } else {
      fail(done.cause(), room, clientMsgId);
      if (done.cause() instanceof ParleyException refused && refused.code() == ErrorCode.RATE_LIMIT
        && refused.retryAfterMs() != null) {
        overLimit(refused.retryAfterMs());
      }
    }
  }

  /**
   * Over the message limit, the socket is not read until the limit allows a message again (at most
   * {@link #MAX_HOLD_BACK_MS}), then one message at a time until none has been refused for that long: a client
   * that floods is held back by TCP, and gets about one refusal per message the limit lets through, instead of
   * a refusal for every frame that was read while the first refusal was on its way.
   */
  private void overLimit(long retryAfterMs) {
    refusedAt = System.currentTimeMillis();
    if (heldBack) {
      return;
    }
    heldBack = true;
    updateReading();
    realtime.vertx().setTimer(Math.max(1, Math.min(retryAfterMs, MAX_HOLD_BACK_MS)), t -> {
      heldBack = false;
      updateReading();
    });
  }

  /**
   * Reads frames unless draining, held back over the limit, or with as many messages in flight as it may have:
   * {@link #MAX_IN_FLIGHT}, or one within {@link #MAX_HOLD_BACK_MS} of a refusal. (A socket waiting on its one
   * message is looked at again when it is answered, so the window needs no timer of its own.)
   */
  private void updateReading() {
    boolean probing = System.currentTimeMillis() - refusedAt < MAX_HOLD_BACK_MS;
    boolean read = !draining && !closed && !heldBack && !messages.anyWaiting()
      && messages.size() < (probing ? 1 : MAX_IN_FLIGHT);
    if (read != reading && !ws.isClosed()) {
      reading = read;
      if (read) {
        ws.resume();
      } else {
        ws.pause();
      }
    }
  }

  private void read(JsonObject frame) {
    String room = conversationId(frame);
    Long seq = Inputs.seq(frame, Frames.SEQ);
    if (seq == null) {
      throw ParleyException.invalid(Frames.SEQ + " is required");
    }
    realtime.store().markRead(user.id(), room, seq).onFailure(failure -> fail(failure, room, null));
  }

  /** Stops the assistant's answers in a joined room (or the one of {@code requestId}), wherever they are written. */
  private void stop(JsonObject frame) {
    String room = conversationId(frame);
    String requestId = Inputs.string(frame, Frames.REQUEST_ID, false, MAX_ID);
    if (!rooms.containsKey(room)) {
      throw ParleyException.notFound("join " + room + " first");
    }
    realtime.assistant().stop(room, requestId);
  }

  /** Sends a protocol ping, or closes a peer silent for two intervals. */
  void heartbeat(long now) {
    if (now - lastSeen > 2 * realtime.config().pingIntervalMs()) {
      close(Frames.CLOSE_NO_HEARTBEAT, "no heartbeat");
    } else if (!closed) {
      ws.writePing(Buffer.buffer());
    }
  }

  /** Stops reading new frames and completes once every message in flight has its answer. */
  Future<Void> drain() {
    draining = true;
    updateReading();
    idle = Promise.promise();
    idleWhenDone();
    return idle.future();
  }

  @Override
  void writeEvent(RoomEvent event) {
    write(event.json);
  }

  @Override
  void writeFrame(JsonObject frame) {
    write(frame.toBuffer());
  }

  private void write(Buffer json) {
    if (closed || ws.isClosed()) {
      return;
    }
    ws.writeFrame(Frames.text(json));
    written(json.length());
  }

  @Override
  boolean writeQueueFull() {
    return !ws.isClosed() && ws.writeQueueFull();
  }

  @Override
  void close(short code, String reason) {
    if (!ws.isClosed()) {
      ws.close(code, reason);
    }
    onClose();
  }

  /** Draining, with no message left to answer: {@link #drain} is done. */
  private void idleWhenDone() {
    if (idle != null && messages.isEmpty()) {
      idle.tryComplete();
    }
  }

  private void onClose() {
    messages.close();
    if (authTimer >= 0) {
      realtime.vertx().cancelTimer(authTimer);
    }
    if (expiryTimer >= 0) {
      realtime.vertx().cancelTimer(expiryTimer);
    }
    idleWhenDone();
    closed();
  }

  private static String conversationId(JsonObject frame) {
    return Inputs.string(frame, Frames.CONVERSATION_ID, true, MAX_ID);
  }

  private static boolean bool(JsonObject frame, String field) {
    Object value = frame.getValue(field);
    if (!(value instanceof Boolean flag)) {
      throw ParleyException.invalid(field + " must be true or false");
    }
    return flag;
  }


}
