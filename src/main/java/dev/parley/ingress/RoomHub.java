package dev.parley.ingress;

import dev.parley.bus.Addresses;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.RoomEvents;
import dev.parley.bus.StoreClient;
import dev.parley.metrics.MessageTrail;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The node's registry of rooms with local subscribers, and its one fan-out path (DESIGN.md §1). For each room
 * with at least one local socket or stream there is exactly one event-bus consumer on this node, reference
 * counted by its subscribers. An event arrives once per node, already encoded; the hub hands the same bytes to
 * every local subscriber with one task per event loop, not one per socket. A big room is written a slice of
 * {@link #SLICE} sockets per task, so the loop gets to its other work (an answer's next piece, an ack) between
 * slices instead of after all 5,000 writes; each loop's events of a room still go out in order, one after another.
 *
 * <p>Messages reach subscribers in seq order and never twice. Events of one room may be published by the stores
 * of different nodes and so arrive out of order: a later seq waits until the ones before it arrive, or, after
 * {@link #GAP_WAIT_MS}, are read from the store. The same read runs once {@link #SETTLE_MS} after a room's
 * consumer is registered on a clustered node, since other nodes learn of a new registration a moment later and a
 * message they publish meanwhile would otherwise reach this node only with the next one.
 *
 * <p>All state lives on the hub's own event loop; callers may be on any.
 */
final class RoomHub {

  private static final Logger LOG = LoggerFactory.getLogger(RoomHub.class);
  static final long GAP_WAIT_MS = 200;
  static final long SETTLE_MS = 1_000;
  private static final int FILL_BATCH = 500;
  private static final long SLOW_REGISTRATION_MS = 2_000;
  /**
   * Sockets written per task: half a millisecond of writes. Beside a room of 5,000 at 10 msg/s the assistant's
   * pieces reached the screen at p99 46 ms with 32, 55 ms with 64 (bench/run bigroom).
   */
  static final int SLICE = 32;

  private final Vertx vertx;
  private final Context context;
  private final StoreClient store;
  private final java.util.concurrent.atomic.AtomicInteger count;
  private final Map<String, Room> rooms = new HashMap<>();
  private final MessageTrail trail;
  private final io.micrometer.core.instrument.Timer fanOut;
  private long catchUpTimer = -1;

  /** @param meters {@code rooms} is kept equal to the number of rooms with local subscribers */
  RoomHub(Vertx vertx, StoreClient store, dev.parley.metrics.Meters meters) {
    this.vertx = vertx;
    this.trail = meters.trail;
    this.fanOut = meters.fanOut;
    this.store = store;
    this.count = meters.rooms;
    // A context of its own on one of the node's event loops (the caller's may be the cluster manager's).
    this.context = ((VertxInternal) vertx).createEventLoopContext();
  }

  /**
   * Subscribes to a room. Completes, on the subscriber's context, once this node's consumer is registered, with
   * the seq up to which the room was delivered: every message after it reaches the subscriber live, in order.
   */
  Future<Long> attach(String conversationId, Subscriber subscriber) {
    Promise<Long> attached = Promise.promise();
    context.runOnContext(v -> {
      Room room = rooms.computeIfAbsent(conversationId, this::open);
      if (room.delivered >= 0) {
        room.add(subscriber);
        long baseline = room.delivered;
        subscriber.context().runOnContext(x -> attached.complete(baseline));
      } else {
        room.waiting.put(subscriber, attached);
      }
    });
    return attached.future();
  }

  /** Unsubscribes; the last subscriber of a room takes its consumer away. Harmless when not attached. */
  void detach(String conversationId, Subscriber subscriber) {
    context.runOnContext(v -> {
      Room room = rooms.get(conversationId);
      if (room != null) {
        room.waiting.remove(subscriber);
        room.remove(subscriber);
        closeIfUnused(room);
      }
    });
  }

  /**
   * In {@link #SETTLE_MS}, every room reads from the store what it has not delivered: for when an event may have
   * been lost on the way (the cluster's membership changed while it was published). Calls within that time share
   * one catch-up.
   */
  void catchUpLater() {
    context.runOnContext(v -> {
      if (catchUpTimer < 0) {
        catchUpTimer = vertx.setTimer(SETTLE_MS, t -> {
          catchUpTimer = -1;
          rooms.values().stream().filter(room -> room.delivered >= 0).forEach(this::fill);
        });
      }
    });
  }

  /** The number of rooms with local subscribers (for tests and metrics). */
  Future<Integer> roomCount() {
    Promise<Integer> count = Promise.promise();
    context.runOnContext(v -> count.complete(rooms.size()));
    return count.future();
  }

  private Room open(String conversationId) {
    Room room = new Room(conversationId);
    count.incrementAndGet();
    room.consumer = vertx.eventBus().consumer(Addresses.roomAddress(conversationId), event -> onEvent(room, event));
    // Its joins wait for the registration: say so when the cluster takes long over it (a member just died).
    long slow = vertx.setTimer(SLOW_REGISTRATION_MS, t -> {
      if (!room.closed && !room.waiting.isEmpty()) {
        LOG.warn("room {}: {} joins waiting {} ms so far for its registration in the cluster", conversationId,
          room.waiting.size(), SLOW_REGISTRATION_MS);
      }
    });
    room.consumer.completion()
      .onComplete(registered -> vertx.cancelTimer(slow))
      .compose(registered -> store.since(conversationId, 0, 0))
      .onComplete(done -> {
        if (done.failed()) {
          LOG.debug("room {} could not be opened: {}", conversationId, done.cause().getMessage());
          room.waiting.forEach((subscriber, attached) ->
            subscriber.context().runOnContext(x -> attached.fail(done.cause())));
          room.waiting.clear();
          closeIfUnused(room);
          return;
        }
        room.delivered = done.result().lastSeq();
        long baseline = room.delivered;
        room.waiting.forEach((subscriber, attached) -> {
          room.add(subscriber);
          subscriber.context().runOnContext(x -> attached.complete(baseline));
        });
        room.waiting.clear();
        drain(room);
        if (!room.pending.isEmpty()) {
          awaitGap(room);
        }
        if (vertx.isClustered()) {
          vertx.setTimer(SETTLE_MS, t -> fill(room));
        }
      });
    return room;
  }

  private void closeIfUnused(Room room) {
    if (room.size == 0 && room.waiting.isEmpty() && rooms.get(room.id) == room) {
      rooms.remove(room.id);
      count.decrementAndGet();
      room.closed = true;
      if (room.gapTimer >= 0) {
        vertx.cancelTimer(room.gapTimer);
      }
      room.consumer.unregister();
    }
  }

  private void onEvent(Room room, Message<Buffer> message) {
    if (room.closed) {
      return;
    }
    long seq = RoomEvents.seq(message);
    String published = message.headers().get(RoomEvents.TIME_HEADER);
    RoomEvent event = new RoomEvent(message.headers().get(RoomEvents.TYPE_HEADER), seq, message.body(),
      message.headers().get(RoomEvents.REQUEST_HEADER), published == null ? 0 : Long.parseLong(published),
      message.headers().get(RoomEvents.ID_HEADER));
    if (seq == 0) {
      dispatch(room, event);
    } else if (room.delivered < 0) {
      room.pending.put(seq, event);
    } else if (seq == room.delivered + 1) {
      dispatch(room, event);
      room.delivered = seq;
      drain(room);
    } else if (seq > room.delivered) {
      room.pending.put(seq, event);
      awaitGap(room);
    }
  }

  /** A message is missing before the pending ones: give it a moment to arrive, then read it from the store. */
  private void awaitGap(Room room) {
    if (room.gapTimer < 0) {
      room.gapTimer = vertx.setTimer(GAP_WAIT_MS, t -> {
        room.gapTimer = -1;
        fill(room);
      });
    }
  }

  /** Delivers the pending messages that now follow on without a gap; drops the ones already delivered. */
  private void drain(Room room) {
    while (!room.pending.isEmpty() && room.pending.firstKey() <= room.delivered + 1) {
      Map.Entry<Long, RoomEvent> next = room.pending.pollFirstEntry();
      if (next.getKey() == room.delivered + 1) {
        dispatch(room, next.getValue());
        room.delivered = next.getKey();
      }
    }
    if (room.pending.isEmpty() && room.gapTimer >= 0) {
      vertx.cancelTimer(room.gapTimer);
      room.gapTimer = -1;
    }
  }

  /** Reads what this node missed from the store and delivers it in order. */
  private void fill(Room room) {
    if (room.closed || room.filling) {
      return;
    }
    room.filling = true;
    store.since(room.id, room.delivered, FILL_BATCH).onComplete(done -> {
      room.filling = false;
      if (room.closed) {
        return;
      }
      if (done.failed()) {
        LOG.warn("room {}: cannot read missed messages yet: {}", room.id, done.cause().getMessage());
        if (room.gapTimer >= 0) {
          vertx.cancelTimer(room.gapTimer);
        }
        room.gapTimer = vertx.setTimer(GAP_WAIT_MS * 5, t -> {
          room.gapTimer = -1;
          fill(room);
        });
        return;
      }
      List<ChatMessage> missed = done.result().messages();
      for (ChatMessage message : missed) {
        if (message.seq() == room.delivered + 1) {
          dispatch(room, RoomEvent.of(message));
          room.delivered = message.seq();
        }
      }
      drain(room);
      if (missed.size() == FILL_BATCH || !room.pending.isEmpty()) {
        fill(room);
      }
    });
  }

  /** The node's log of each message's steps. */
  MessageTrail trail() {
    return trail;
  }

  private void dispatch(Room room, RoomEvent event) {
    if (event.seq > 0 && MessageTrail.enabled()) {
      int subscribers = 0;
      for (List<Subscriber> group : room.groups.values()) {
        subscribers += group.size();
      }
      trail.delivered(event.messageId, event.seq, room.id, subscribers, event.publishedAt == 0);
    }
    for (Map.Entry<Context, List<Subscriber>> group : room.groups.entrySet()) {
      List<Subscriber> subscribers = group.getValue();
      Lane lane = room.lanes.computeIfAbsent(group.getKey(), loop -> new Lane(loop, room.id, fanOut));
      group.getKey().runOnContext(v -> lane.offer(event, subscribers));
    }
  }

  /**
   * One room's deliveries on one event loop: a queue of events, each with the subscribers it goes to, written
   * {@link #SLICE} subscribers per task. Used only on its loop (the hub only creates it), and FIFO, so every
   * subscriber gets the room's events in the order the hub dispatched them.
   */
  private static final class Lane {

    private static final class Delivery {
      final RoomEvent event;
      final List<Subscriber> subscribers;
      int next;

      Delivery(RoomEvent event, List<Subscriber> subscribers) {
        this.event = event;
        this.subscribers = subscribers;
      }
    }

    private final Context loop;
    private final String roomId;
    private final io.micrometer.core.instrument.Timer fanOut;
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
    private boolean writing;

    Lane(Context loop, String roomId, io.micrometer.core.instrument.Timer fanOut) {
      this.loop = loop;
      this.roomId = roomId;
      this.fanOut = fanOut;
    }

    void offer(RoomEvent event, List<Subscriber> subscribers) {
      queue.add(new Delivery(event, subscribers));
      if (!writing) {
        write();
      }
    }

    private void write() {
      writing = true;
      int budget = SLICE;
      while (budget > 0 && !queue.isEmpty()) {
        Delivery delivery = queue.peek();
        int end = Math.min(delivery.subscribers.size(), delivery.next + budget);
        for (int i = delivery.next; i < end; i++) {
          delivery.subscribers.get(i).deliver(roomId, delivery.event);
        }
        budget -= end - delivery.next;
        delivery.next = end;
        if (end == delivery.subscribers.size()) {
          queue.poll();
          RoomEvent event = delivery.event;
          // Once per event loop, not per socket: from the publish to the write to this loop's last socket.
          if (event.seq > 0 && event.publishedAt > 0) {
            fanOut.record(Math.max(0, System.currentTimeMillis() - event.publishedAt), TimeUnit.MILLISECONDS);
          }
        }
      }
      if (queue.isEmpty()) {
        writing = false;
      } else {
        loop.runOnContext(v -> write());
      }
    }
  }

  /** A room with local subscribers, grouped by event loop. The lists are replaced, never changed in place. */
  private static final class Room {
    final String id;
    final Map<Context, List<Subscriber>> groups = new HashMap<>();
    /** Kept for the room's life: at most one per event loop. */
    final Map<Context, Lane> lanes = new HashMap<>();
    final Map<Subscriber, Promise<Long>> waiting = new HashMap<>();
    final TreeMap<Long, RoomEvent> pending = new TreeMap<>();
    MessageConsumer<Buffer> consumer;
    /** The highest seq delivered with none missing before it; -1 until the consumer is registered. */
    long delivered = -1;
    int size;
    long gapTimer = -1;
    boolean filling;
    boolean closed;

    Room(String id) {
      this.id = id;
    }

    void add(Subscriber subscriber) {
      List<Subscriber> group = new ArrayList<>(groups.getOrDefault(subscriber.context(), List.of()));
      if (!group.contains(subscriber)) {
        group.add(subscriber);
        size++;
      }
      groups.put(subscriber.context(), List.copyOf(group));
    }

    void remove(Subscriber subscriber) {
      List<Subscriber> group = groups.get(subscriber.context());
      if (group == null || !group.contains(subscriber)) {
        return;
      }
      List<Subscriber> rest = new ArrayList<>(group);
      rest.remove(subscriber);
      size--;
      if (rest.isEmpty()) {
        groups.remove(subscriber.context());
      } else {
        groups.put(subscriber.context(), List.copyOf(rest));
      }
    }
  }
}
