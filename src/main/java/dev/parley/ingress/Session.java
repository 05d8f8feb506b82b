package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.RoomEvents;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;


import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One client connection, a WebSocket or an SSE stream, and the rooms it is joined to. It lives on one event
 * loop: every method runs there.
 *
 * <p>Joining subscribes first, then reads: the node's room consumer is registered and the room's delivered seq
 * known ({@link RoomHub#attach}) before {@code joined} is sent; a resume replays the stored messages after
 * {@code lastSeq} up to that seq, while live events after it wait in a buffer; then the buffer is flushed and
 * the room goes live. So a client that resumes sees every message once, in order, on whichever node.
 *
 * <p>A client that cannot keep up is closed rather than buffered without bound: when its write queue stays
 * full past {@code WS_SLOW_CONSUMER_MS}, or {@code WS_SLOW_CONSUMER_BYTES} more are written while it is full.
 */
abstract class Session implements Subscriber {

  /** Live events a joining room may hold back while it replays; past this the client is too slow. */
  private static final int MAX_BUFFERED = 10_000;
  private static final int REPLAY_PAGE = 200;
  /** Rooms one connection may be joined to at once: each costs presence entries and a place in the fan-out. */
  static final int MAX_ROOMS = 256;

  protected final Realtime realtime;
  protected final Context context;
  protected final String connectionId = UUID.randomUUID().toString();
  protected AuthenticatedUser user;
  protected final Map<String, Joined> rooms = new HashMap<>();
  protected boolean closed;
  private final Promise<Void> cleanedUp = Promise.promise();
  private long fullSince;
  private long writtenWhileFull;
  private long slowTimer = -1;

  Session(Realtime realtime, Context context) {
    this.realtime = realtime;
    this.context = context;
  }

  /** A room this session is joined to; {@code live} once its replay is done. */
  static final class Joined {
    final String id;
    boolean live;
    /** Subscribed, so this connection belongs in presence (refreshed, and taken out when it leaves). */
    boolean attached;
    /** The highest seq the client has or was sent: a message at or below it is not sent again. */
    long floor = -1;
    /** Answers joined mid-way: how much of each the client was given at once (live pieces below are dropped). */
    Map<String, Long> answered;
    List<RoomEvent> held = new ArrayList<>();
    boolean typing;
    long typingSentAt;
    long typingTimer = -1;

    Joined(String id) {
      this.id = id;
    }
  }

  abstract void writeEvent(RoomEvent event);

  abstract void writeFrame(JsonObject frame);

  abstract boolean writeQueueFull();

  /** Closes the connection; {@link #closed()} follows once it is gone. */
  abstract void close(short code, String reason);

  @Override
  public Context context() {
    return context;
  }

  JsonObject userJson() {
    return RoomEvents.user(user.id(), user.displayName());
  }

  /** Completes once the connection is gone and it has left every room (presence included). */
  Future<Void> cleanedUp() {
    return cleanedUp.future();
  }

  /**
   * Joins a room; {@code lastSeq} (nullable) asks for a replay of what came after it. Fails with NOT_FOUND for a
   * non-member, leaving nothing behind.
   */
  Future<Void> join(String conversationId, Long lastSeq) {
    if (rooms.containsKey(conversationId)) {
      return Future.failedFuture(ParleyException.invalid("already joined to " + conversationId + "; leave it first"));
    }
    if (rooms.size() >= MAX_ROOMS) {
      return Future.failedFuture(ParleyException.invalid("a connection may join at most " + MAX_ROOMS + " rooms"));
    }
    Joined joined = new Joined(conversationId);
    rooms.put(conversationId, joined);
    // Only whether the user is a member: not the room's whole member list, which every join would copy around.
    return realtime.store().membership(user.id(), conversationId)
      // Checked on this event loop, where leave() runs: a leave during the store's answer stops the attach.
      .compose(member -> stillJoined(joined))
      .compose(v -> realtime.hub().attach(conversationId, this))
      .compose(baseline -> {
        joined.attached = true;
        joined.floor = lastSeq == null ? baseline : Math.max(baseline, lastSeq);
        return stillJoined(joined)
          .compose(v -> realtime.presence().connect(conversationId, connectionId, userJson()).otherwiseEmpty())
          .compose(v -> realtime.presence().list(conversationId, null).otherwise(new JsonObject()))
          .compose(presence -> stillJoined(joined).map(v -> {
            writeFrame(Frames.joined(conversationId, baseline, presence));
            return baseline;
          }));
      })
      .compose(baseline -> lastSeq == null ? Future.succeededFuture() : replay(joined, lastSeq, baseline))
      .compose(v -> realtime.presence().answers(conversationId).otherwise(new JsonArray()))
      .compose(answers -> stillJoined(joined).<Void>map(v -> {
        catchUp(joined, answers);
        return null;
      }))
      .onSuccess(v -> goLive(joined))
      .onFailure(failure -> {
        if (rooms.get(conversationId) == joined) {
          leave(conversationId);
        }
      });
  }

  private Future<Void> stillJoined(Joined joined) {
    return !closed && rooms.get(joined.id) == joined ? Future.succeededFuture()
      : Future.failedFuture(new ParleyException(ErrorCode.NOT_FOUND, "left " + joined.id + " while joining"));
  }

  /** Writes the stored messages in (from, to], at most RESUME_MAX_MESSAGES, then {@code resumed}. */
  private Future<Void> replay(Joined joined, long from, long to) {
    return replayPage(joined, from, to, 0).map(last -> {
      boolean truncated = last < to;
      writeFrame(Frames.resumed(joined.id, from, Math.max(from, last), truncated));
      return null;
    });
  }

  private Future<Long> replayPage(Joined joined, long after, long to, int written) {
    int left = realtime.config().resumeMaxMessages() - written;
    if (after >= to || left <= 0) {
      return Future.succeededFuture(after);
    }
    return realtime.store().since(joined.id, after, Math.min(REPLAY_PAGE, left)).compose(page -> {
      long last = after;
      int count = written;
      for (ChatMessage message : page.messages()) {
        if (message.seq() > to || closed) {
          break;
        }
        writeEvent(RoomEvent.of(message));
        last = message.seq();
        count++;
      }
      if (last == after) {
        return Future.succeededFuture(last);
      }
      long next = last;
      int total = count;
      return stillJoined(joined).compose(v -> replayPage(joined, next, to, total));
    });
  }

  /** Answers being written when the client joined: the text so far, at once, as one chunk from offset 0. */
  private void catchUp(Joined joined, JsonArray answers) {
    for (Object entry : answers) {
      JsonObject answer = (JsonObject) entry;
      String requestId = answer.getString(RoomEvents.REQUEST_ID);
      String text = answer.getString(RoomEvents.CONTENT, "");
      if (requestId == null || text.isEmpty()) {
        continue;
      }
      if (joined.answered == null) {
        joined.answered = new HashMap<>();
      }
      joined.answered.put(requestId, (long) text.length());
      writeFrame(RoomEvents.chunk(joined.id, requestId, text, 0));
    }
  }

  private void goLive(Joined joined) {
    joined.live = true;
    List<RoomEvent> held = joined.held;
    joined.held = null;
    for (RoomEvent event : held) {
      if (rooms.get(joined.id) != joined) {
        return;
      }
      handle(joined, event);
    }
  }

  @Override
  public void deliver(String conversationId, RoomEvent event) {
    Joined joined = rooms.get(conversationId);
    if (joined == null || closed) {
      return;
    }
    if (!joined.live) {
      joined.held.add(event);
      if (joined.held.size() > MAX_BUFFERED) {
        slowConsumer();
      }
      return;
    }
    handle(joined, event);
  }

  private void handle(Joined joined, RoomEvent event) {
    if (joined.answered != null && event.requestId != null && joined.answered.containsKey(event.requestId)) {
      event = alignAnswer(joined, event);
      if (event == null) {
        return;
      }
    }
    if (event.seq > 0) {
      if (event.seq <= joined.floor) {
        // Already replayed, or seen by the client before it came here from a node that was further ahead.
        return;
      }
      joined.floor = event.seq;
      realtime.meters().delivered.increment();
    }
    writeEvent(event);
    // Rare events that end this session's place in the room: it was removed, or the room deleted.
    if (RoomEvents.MEMBER.equals(event.type) || RoomEvents.CONVERSATION.equals(event.type)) {
      JsonObject frame = new JsonObject(event.json);
      boolean removed = RoomEvents.REMOVED.equals(frame.getString(RoomEvents.CHANGE))
        && user.id().equals(frame.getJsonObject(RoomEvents.USER, new JsonObject()).getString(RoomEvents.USER_ID));
      boolean deleted = RoomEvents.DELETED.equals(frame.getString(RoomEvents.CHANGE))
        && RoomEvents.CONVERSATION.equals(event.type);
      if (removed || deleted) {
        leave(joined.id);
        writeFrame(Frames.left(joined.id, removed ? "removed" : "deleted"));
        lostRoom();
      }
    }
  }

  /**
   * A live event of an answer the client got the text of when it joined: a piece it already has is dropped, one
   * that overlaps is cut to what is new; the answer's end forgets it.
   */
  private RoomEvent alignAnswer(Joined joined, RoomEvent event) {
    if (!RoomEvents.CHUNK.equals(event.type)) {
      joined.answered.remove(event.requestId);
      return event;
    }
    long have = joined.answered.get(event.requestId);
    JsonObject chunk = new JsonObject(event.json);
    long offset = chunk.getLong(RoomEvents.OFFSET, 0L);
    String content = chunk.getString(RoomEvents.CONTENT, "");
    long end = offset + content.length();
    if (end <= have) {
      return null;
    }
    joined.answered.put(event.requestId, end);
    if (offset >= have) {
      return event;
    }
    String rest = content.substring((int) (have - offset));
    return new RoomEvent(event.type, 0, RoomEvents.chunk(joined.id, event.requestId, rest, have).toBuffer(),
      event.requestId);
  }

  /** The server took a room away (removed from it, or deleted); a socket stays, a stream of that room ends. */
  protected void lostRoom() {
  }

  /** Leaves a room: unsubscribes, ends typing, and goes offline there. Harmless when not joined. */
  Future<Void> leave(String conversationId) {
    Joined joined = rooms.remove(conversationId);
    if (joined == null) {
      return Future.succeededFuture();
    }
    realtime.hub().detach(conversationId, this);
    if (joined.typing) {
      stopTyping(joined);
    }
    return joined.attached ? realtime.presence().disconnect(conversationId, connectionId).otherwiseEmpty()
      : Future.succeededFuture();
  }

  /** Typing on or off; throttled, and ending by itself when not refreshed within TYPING_TIMEOUT_MS. */
  void typing(String conversationId, boolean typing) {
    Joined joined = rooms.get(conversationId);
    if (joined == null || !joined.live) {
      throw ParleyException.notFound("join " + conversationId + " first");
    }
    if (!typing) {
      if (joined.typing) {
        stopTyping(joined);
      }
      return;
    }
    long now = System.currentTimeMillis();
    if (joined.typingTimer >= 0) {
      realtime.vertx().cancelTimer(joined.typingTimer);
    }
    joined.typingTimer = realtime.vertx().setTimer(realtime.config().typingTimeoutMs(), t -> {
      joined.typingTimer = -1;
      if (joined.typing) {
        stopTyping(joined);
      }
    });
    if (!joined.typing || now - joined.typingSentAt >= realtime.config().typingThrottleMs()) {
      joined.typing = true;
      joined.typingSentAt = now;
      RoomEvents.publish(realtime.vertx().eventBus(), conversationId,
        RoomEvents.typing(conversationId, userJson(), true, realtime.config().typingTimeoutMs()));
    }
  }

  private void stopTyping(Joined joined) {
    joined.typing = false;
    if (joined.typingTimer >= 0) {
      realtime.vertx().cancelTimer(joined.typingTimer);
      joined.typingTimer = -1;
    }
    RoomEvents.publish(realtime.vertx().eventBus(), joined.id,
      RoomEvents.typing(joined.id, userJson(), false, 0));
  }

  /** Called after every write: closes a client whose queue stays full too long or grows too far. */
  protected void written(int bytes) {
    if (fullSince == 0) {
      if (!writeQueueFull()) {
        return;
      }
      fullSince = System.currentTimeMillis();
      writtenWhileFull = 0;
      slowTimer = realtime.vertx().setTimer(realtime.config().slowConsumerMs(), t -> {
        slowTimer = -1;
        if (fullSince != 0) {
          slowConsumer();
        }
      });
    }
    writtenWhileFull += bytes;
    if (writtenWhileFull > realtime.config().slowConsumerBytes()) {
      slowConsumer();
    }
  }

  /** The write queue went below its low mark: the client caught up. */
  protected void drained() {
    fullSince = 0;
    if (slowTimer >= 0) {
      realtime.vertx().cancelTimer(slowTimer);
      slowTimer = -1;
    }
  }

  private void slowConsumer() {
    if (!closed) {
      realtime.slowConsumerClosed();
      close(Frames.CLOSE_SLOW_CONSUMER, "too slow: reconnect and resume with lastSeq");
    }
  }

  /** The connection is gone: leave every room, then let the node forget this session. */
  protected void closed() {
    if (closed) {
      return;
    }
    closed = true;
    if (slowTimer >= 0) {
      realtime.vertx().cancelTimer(slowTimer);
    }
    List<Future<Void>> left = new ArrayList<>();
    for (String room : new ArrayList<>(rooms.keySet())) {
      left.add(leave(room));
    }
    Future.join(left).onComplete(done -> {
      realtime.forget(this);
      cleanedUp.complete();
    });
  }

  /** Writes an error frame for a failure, mapping anything that is not ours to INTERNAL. */
  void fail(Throwable failure, String conversationId, String clientMsgId) {
    ParleyException parley = ParleyException.from(failure);
    if (parley.code() == ErrorCode.INTERNAL && !(failure instanceof ParleyException)) {
      realtime.logInternal(failure);
    }
    writeFrame(Frames.error(parley, conversationId, clientMsgId));
  }
}
