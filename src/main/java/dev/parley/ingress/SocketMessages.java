package dev.parley.ingress;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The messages of one socket between read and answer: those being handled, and those waiting for a place on
 * the event loop ({@link MessagePlaces}). One timer looks for any unanswered for {@link StuckMessages#AFTER_MS}
 * and reports each once, with the step it waits in. Not thread-safe: used on the socket's context.
 */
final class SocketMessages {

  /** A message of the socket, and the step it is in. */
  static final class Message {
    final String room;
    final String clientMsgId;
    final long since = System.nanoTime();
    String step = "its turn";
    boolean reported;
    private Consumer<Message> start;

    private Message(String room, String clientMsgId) {
      this.room = room;
      this.clientMsgId = clientMsgId;
    }
  }

  private final Realtime realtime;
  private final ChatSocket owner;
  /** Oldest first. */
  private final List<Message> handling = new ArrayList<>();
  /**
   * Those of {@link #handling} not started yet, for want of a place; oldest first. Empty but on an overloaded
   * node, so it starts small (every idle connection has one).
   */
  private final ArrayDeque<Message> waiting = new ArrayDeque<>(1);
  private long watchdog = -1;

  SocketMessages(Realtime realtime, ChatSocket owner) {
    this.realtime = realtime;
    this.owner = owner;
  }

  /**
   * A message read: {@code start} is given it now if no earlier one waits and the event loop has a place, else
   * once it has its turn. Whatever {@code start} begins must end in {@link #finished}.
   */
  void add(String room, String clientMsgId, Consumer<Message> start) {
    Message message = new Message(room, clientMsgId);
    message.start = start;
    handling.add(message);
    if (watchdog < 0) {
      watchdog = realtime.vertx().setTimer(StuckMessages.AFTER_MS, t -> lookForStuckMessages());
    }
    if (waiting.isEmpty() && realtime.places().admit()) {
      start.accept(message);
    } else {
      waiting.add(message);
      realtime.places().waitFor(owner);
    }
  }

  /** Starts the oldest waiting message if the event loop has a place for it. */
  void startOne() {
    if (!waiting.isEmpty() && realtime.places().admit()) {
      Message next = waiting.poll();
      next.start.accept(next);
    }
  }

  /** The message is answered; its place goes back with {@link MessagePlaces#settled} (the caller's last step). */
  void finished(Message message) {
    handling.remove(message);
  }

  int size() {
    return handling.size();
  }

  boolean isEmpty() {
    return handling.isEmpty();
  }

  boolean anyWaiting() {
    return !waiting.isEmpty();
  }

  /**
   * The socket is gone. Messages still waiting for their turn were never started: nothing of them is stored, and
   * the client, which has no ack for them, sends them again. Those started are still answered (and give back
   * their places).
   */
  void close() {
    if (watchdog >= 0) {
      realtime.vertx().cancelTimer(watchdog);
      watchdog = -1;
    }
    handling.removeAll(waiting);
    waiting.clear();
    realtime.places().stopWaiting(owner);
  }

  /** Reports each message unanswered for {@link StuckMessages#AFTER_MS}, once; then looks again when the next is due. */
  private void lookForStuckMessages() {
    watchdog = -1;
    long now = System.nanoTime();
    long nextDueMs = -1;
    for (Message message : handling) {
      long waitedMs = (now - message.since) / 1_000_000;
      if (message.reported) {
        continue;
      }
      if (waitedMs >= StuckMessages.AFTER_MS) {
        message.reported = true;
        realtime.stuck().report(owner.connectionId, owner.user.id(), message.room, message.clientMsgId, waitedMs,
          message.step);
      } else if (nextDueMs < 0) {
        nextDueMs = StuckMessages.AFTER_MS - waitedMs;
      }
    }
    if (nextDueMs >= 0) {
      watchdog = realtime.vertx().setTimer(Math.max(1, nextDueMs), t -> lookForStuckMessages());
    }
  }
}
