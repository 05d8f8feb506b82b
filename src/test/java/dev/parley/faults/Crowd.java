package dev.parley.faults;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Chat users as a well-behaved client library would be, for the fault suite: each keeps one WebSocket, and when it
 * drops reconnects to the next node, resumes from the last {@code seq} it has and resends what was not
 * acknowledged, with the same {@code clientMsgId}. Every user records what it receives: a {@code seq} seen again is
 * a duplicate, one that skips ahead a gap. Messages carry the time they were due (open loop), so every live
 * delivery gives a latency. All of it runs on one event loop; the test thread reads it through {@link #read}.
 */
final class Crowd implements AutoCloseable {

  private static final String MARK = "f:";
  private static final long RECONNECT_DELAY_MS = 50;
  private static final long RETRY_DELAY_MS = 250;
  /** {@code -Dparley.fault.timeline=true}: {@link #measure} prints a line per second. */
  private static final boolean TIMELINE = Boolean.getBoolean("parley.fault.timeline");

  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
  private final Context context = vertx.getOrCreateContext();
  private final WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
    .setMaxConnections(100_000).setConnectTimeout(5_000).setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 22));
  private final List<Integer> ports;
  private final List<User> users = new ArrayList<>();
  private final Random random = new Random(7);
  private Histogram latency = new Histogram(60_000_000L, 3);
  /** Only messages due from this moment on (System.nanoTime) count for latency. */
  private long countFrom = Long.MIN_VALUE;
  private long publisher = -1;
  private long messages;
  /** Unique to this crowd, so its clientMsgIds never repeat another's (the store would answer a repeat as a duplicate). */
  private final String run = java.util.UUID.randomUUID().toString().substring(0, 8);
  private boolean closing;
  /** The content of every message is this long at least (padding after the due time). */
  private int padding;

  Crowd(List<Integer> ports) {
    this.ports = List.copyOf(ports);
  }

  /** One chat user of the crowd. Its fields belong to the crowd's event loop. */
  static final class User {
    final String id;
    final String token;
    final String room;
    int node;
    WebSocket socket;
    /** Joined, and the replay of a resume is done: deliveries now count for latency. */
    boolean live;
    long lastSeq;
    long delivered;
    long duplicates;
    long gaps;
    long reconnects;
    final Map<String, String> unacked = new LinkedHashMap<>();
    final Map<String, Long> acked = new HashMap<>();
    long refused;
    /** When its socket went (System.nanoTime), until it is live again; -1 while connected. */
    long lostAt = -1;
    final List<Long> catchUpMs = new ArrayList<>();

    User(String id, String token, String room, int node) {
      this.id = id;
      this.token = token;
      this.room = room;
      this.node = node;
    }
  }

  User add(String id, String token, String room, int node) {
    User user = new User(id, token, room, node);
    users.add(user);
    return user;
  }

  List<User> users() {
    return users;
  }

  void padding(int chars) {
    this.padding = chars;
  }

  /** Connects every user (to its node) and joins its room; returns once all are live. */
  void connectAll() throws Exception {
    CompletableFuture<Void> all = new CompletableFuture<>();
    context.runOnContext(v -> {
      List<io.vertx.core.Future<Void>> joins = new ArrayList<>();
      for (User user : users) {
        Promise<Void> live = Promise.promise();
        connect(user, live);
        joins.add(live.future());
      }
      io.vertx.core.Future.all(joins).onComplete(done -> all.complete(null));
    });
    all.get(120, TimeUnit.SECONDS);
  }

  private void connect(User user, Promise<Void> live) {
    if (closing) {
      return;
    }
    int port = ports.get(user.node);
    client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/ws/chat?token=" + user.token))
      .onSuccess(socket -> {
        user.socket = socket;
        socket.textMessageHandler(text -> onFrame(user, new JsonObject(text), live));
        socket.closeHandler(v -> onClose(user, socket));
        socket.writeTextMessage(new JsonObject().put("type", "join").put("conversationId", user.room)
          .put("lastSeq", user.lastSeq).encode());
      })
      .onFailure(refused -> reconnect(user, live));
  }

  private void reconnect(User user, Promise<Void> live) {
    user.node = (user.node + 1) % ports.size();
    user.reconnects++;
    vertx.setTimer(RECONNECT_DELAY_MS, t -> connect(user, live));
  }

  private void onClose(User user, WebSocket socket) {
    if (user.socket != socket) {
      return;
    }
    user.socket = null;
    user.live = false;
    if (user.lostAt < 0) {
      user.lostAt = System.nanoTime();
    }
    reconnect(user, Promise.promise());
  }

  private void onFrame(User user, JsonObject frame, Promise<Void> live) {
    switch (frame.getString("type")) {
      case "message" -> onMessage(user, frame);
      case "resumed" -> {
        user.live = true;
        if (user.lostAt >= 0) {
          user.catchUpMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - user.lostAt));
          user.lostAt = -1;
        }
        user.unacked.forEach((clientMsgId, content) -> write(user, clientMsgId, content));
        live.tryComplete();
      }
      case "ack" -> {
        user.unacked.remove(frame.getString("clientMsgId"));
        user.acked.put(frame.getString("clientMsgId"), frame.getLong("seq"));
      }
      case "error" -> onError(user, frame);
      default -> {
        // joined, presence, typing, connection: not counted
      }
    }
  }

  private void onMessage(User user, JsonObject message) {
    if (!user.room.equals(message.getString("conversationId"))) {
      return;
    }
    long seq = message.getLong("seq");
    if (seq <= user.lastSeq) {
      user.duplicates++;
      return;
    }
    if (seq > user.lastSeq + 1) {
      user.gaps++;
    }
    user.lastSeq = seq;
    user.delivered++;
    String content = message.getString("content", "");
    if (user.live && content.startsWith(MARK)) {
      int end = content.indexOf(' ');
      long due = Long.parseLong(content.substring(MARK.length(), end < 0 ? content.length() : end));
      if (due >= countFrom) {
        latency.recordValue(Math.max(0, (System.nanoTime() - due) / 1_000));
      }
    }
  }

  private void onError(User user, JsonObject error) {
    String clientMsgId = error.getString("clientMsgId");
    if (clientMsgId == null || !user.unacked.containsKey(clientMsgId)) {
      return;
    }
    String code = error.getString("code");
    if ("UNAVAILABLE".equals(code) || "TIMEOUT".equals(code)) {
      // Retryable: the same message again, as a client library does.
      String content = user.unacked.get(clientMsgId);
      vertx.setTimer(RETRY_DELAY_MS, t -> write(user, clientMsgId, content));
    } else {
      user.unacked.remove(clientMsgId);
      user.refused++;
    }
  }

  private void write(User user, String clientMsgId, String content) {
    if (user.socket != null && user.live) {
      user.socket.writeTextMessage(new JsonObject().put("type", "message").put("conversationId", user.room)
        .put("content", content).put("clientMsgId", clientMsgId).encode());
    }
  }

  /** Sends one message from {@code user} now: its content carries its due time. */
  private void send(User user, long due) {
    String clientMsgId = run + "-" + messages++;
    String content = MARK + due + (padding > 0 ? " " + "x".repeat(padding) : "");
    user.unacked.put(clientMsgId, content);
    write(user, clientMsgId, content);
  }

  /**
   * Open-loop publishing: {@code perSecond} messages, each from a random user of those {@code senders} accepts, due at
   * its slot whether or not the previous one was answered. A user that is offline sends it when it is back.
   */
  void publish(double perSecond, Predicate<User> senders) {
    context.runOnContext(v -> {
      List<User> eligible = users.stream().filter(senders).toList();
      long start = System.nanoTime();
      long[] sent = {0};
      publisher = vertx.setPeriodic(5, t -> {
        // Message k is due at start + k / perSecond: every one whose time has come goes now.
        long due = (long) ((System.nanoTime() - start) / 1e9 * perSecond) + 1;
        for (; sent[0] < due; sent[0]++) {
          send(eligible.get(random.nextInt(eligible.size())), start + (long) (sent[0] * 1e9 / perSecond));
        }
      });
    });
  }

  void stopPublishing() throws Exception {
    read(crowd -> vertx.cancelTimer(publisher));
  }

  /**
   * The latency (microseconds) of the live deliveries since the last call; from now on only messages due after
   * this moment count, so a backlog from before (a frozen node's) does not pass for the present.
   */
  Histogram takeLatency() throws Exception {
    return read(crowd -> {
      Histogram taken = latency;
      latency = new Histogram(60_000_000L, 3);
      countFrom = System.nanoTime();
      return taken;
    });
  }

  /** The live deliveries of a measured stretch, and how much their p99 moved from one second to the next. */
  record Phase(Histogram latency, double lowestSecondP99Ms, double highestSecondP99Ms) {
    double p99Ms() {
      return latency.getValueAtPercentile(99) / 1e3;
    }

    /** The spread of the per-second p99: what this machine's noise alone does to the figure. */
    double spreadMs() {
      return highestSecondP99Ms - lowestSecondP99Ms;
    }

    /**
     * This stretch and another measured under the same conditions, as one: their deliveries together, and the
     * larger of their two spreads (not the range across both, which would widen what counts as noise).
     */
    Phase and(Phase other) {
      Histogram both = latency.copy();
      both.add(other.latency);
      Phase wider = spreadMs() >= other.spreadMs() ? this : other;
      return new Phase(both, wider.lowestSecondP99Ms, wider.highestSecondP99Ms);
    }
  }

  /** Measures the next {@code seconds} seconds of deliveries, a second at a time. */
  Phase measure(int seconds) throws Exception {
    takeLatency();
    Histogram all = new Histogram(60_000_000L, 3);
    double lowest = Double.MAX_VALUE;
    double highest = 0;
    for (int s = 0; s < seconds; s++) {
      TimeUnit.SECONDS.sleep(1);
      Histogram second = takeLatency();
      all.add(second);
      double p99 = second.getValueAtPercentile(99) / 1e3;
      if (TIMELINE) {
        System.out.printf("second %d: %d deliveries, p99 %.1f ms, max %.1f ms%n", s, second.getTotalCount(), p99,
          second.getMaxValue() / 1e3);
      }
      lowest = Math.min(lowest, p99);
      highest = Math.max(highest, p99);
    }
    return new Phase(all, lowest, highest);
  }

  /**
   * Whether {@code during} is within 20 % of {@code before}'s p99 or, when that is less, within the spread of
   * {@code before}'s own per-second p99 (on two shared cores a few slow deliveries move a p99 by milliseconds).
   */
  static boolean withinTwentyPercent(Phase before, Phase during) {
    return during.p99Ms() <= Math.max(before.p99Ms() * 1.2, before.p99Ms() + before.spreadMs());
  }

  static String compare(Phase before, Phase during, String without) {
    return String.format("the others' p99 %.1f ms, against %.1f ms %s (its per-second p99 spread %.1f ms)",
      during.p99Ms(), before.p99Ms(), without, before.spreadMs());
  }

  /**
   * Waits until every message was acknowledged (or refused) and every user is live with the last seq of its room:
   * the crowd has settled. Returns false if it does not within {@code timeoutMs}.
   */
  boolean awaitSettled(long timeoutMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      if (read(crowd -> settled())) {
        return true;
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    return false;
  }

  private boolean settled() {
    Map<String, Long> last = lastSeqs();
    return users.stream().allMatch(user -> user.unacked.isEmpty() && user.live
      && user.lastSeq == last.getOrDefault(user.room, 0L));
  }

  /** Per room, the highest seq any user's ack carried. */
  Map<String, Long> lastSeqs() {
    Map<String, Long> last = new HashMap<>();
    for (User user : users) {
      for (long seq : user.acked.values()) {
        last.merge(user.room, seq, Math::max);
      }
    }
    return last;
  }

  /** Runs {@code reader} on the crowd's event loop and gives its result. */
  <T> T read(Function<Crowd, T> reader) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        result.complete(reader.apply(this));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    return result.get(30, TimeUnit.SECONDS);
  }

  long sum(Function<User, Long> figure) throws Exception {
    return read(crowd -> users.stream().mapToLong(figure::apply).sum());
  }

  @Override
  public void close() throws Exception {
    read(crowd -> {
      closing = true;
      vertx.cancelTimer(publisher);
      users.forEach(user -> {
        if (user.socket != null) {
          user.socket.close();
        }
      });
      return null;
    });
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
