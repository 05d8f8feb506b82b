package dev.parley.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The simulated users: accounts made over HTTP, rooms of a given size, one WebSocket per user joined to its room,
 * spread over the nodes in turn. Publishers and subscribers live in this one process, so they share a clock: a
 * message carries the time it was due to be sent (open loop: a late generator does not hide latency), and every
 * subscriber that receives it records now minus that time.
 */
final class Fleet implements AutoCloseable {

  /** The prefix of a benchmark message's content; the due time in nanoseconds follows. */
  private static final String MARK = "\"content\":\"b:";
  private static final String PASSWORD = "benchmark password";
  /** A chunk of the assistant's answer: its content starts with the time the model wrote it. */
  private static final String CHUNK = "\"type\":\"chunk\"";
  private static final String CHUNK_MARK = "\"content\":\"" + StreamingModel.MARK;

  private final Vertx vertx;
  private final List<String> nodes;
  private final WebClient http;
  private final WebSocketClient sockets;
  final List<Room> rooms = new ArrayList<>();
  final Recorder latency = new Recorder(60_000_000L, 3);
  /** The same values again, read every second when the timeline is printed. */
  final Recorder timeline = new Recorder(60_000_000L, 2);
  final AtomicLong delivered = new AtomicLong();
  /** The assistant's pieces from the model to a client's screen (the big-room scenario), and how many arrived. */
  final Recorder chunkLatency = new Recorder(60_000_000L, 3);
  final AtomicLong chunks = new AtomicLong();
  final AtomicLong acked = new AtomicLong();
  final AtomicLong refused = new AtomicLong();
  /**
   * Whether sockets send their token in a first {@code auth} frame instead of {@code ?token=} on the upgrade
   * ({@code --auth frame}): Vert.x keeps the upgrade request, its URI with the token, for the socket's lifetime.
   */
  volatile boolean authByFrame;
  /** Messages due at or after this moment (System.nanoTime) count; earlier ones were the warm-up. */
  volatile long countFrom = Long.MAX_VALUE;
  volatile long countUntil = Long.MAX_VALUE;

  record User(String id, String token, int node) {
  }

  static final class Room {
    final String id;
    final List<User> members = new ArrayList<>();
    final List<WebSocket> sockets = new ArrayList<>();

    Room(String id) {
      this.id = id;
    }
  }

  /** @param nodes {@code host:port} of each node's HTTP listener */
  Fleet(Vertx vertx, List<String> nodes) {
    this.vertx = vertx;
    this.nodes = nodes;
    this.http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
      new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64));
    // A big room's joined frame lists everyone present: 5,000 people are half a megabyte.
    this.sockets = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000)
      .setConnectTimeout(30_000).setMaxFrameSize(1 << 22).setMaxMessageSize(1 << 24));
  }

  String host(int node) {
    return nodes.get(node).substring(0, nodes.get(node).lastIndexOf(':'));
  }

  int port(int node) {
    return Integer.parseInt(nodes.get(node).substring(nodes.get(node).lastIndexOf(':') + 1));
  }

  private Future<JsonObject> post(int node, String path, String token, JsonObject body) {
    var request = http.request(HttpMethod.POST, port(node), host(node), path);
    if (token != null) {
      request.bearerTokenAuthentication(token);
    }
    return request.sendJsonObject(body).compose(response -> response.statusCode() / 100 == 2
      ? Future.succeededFuture(response.bodyAsJsonObject())
      : Future.failedFuture(path + " answered " + response.statusCode() + ": " + response.bodyAsString()));
  }

  /** Makes {@code roomCount} rooms of {@code roomSize} members: accounts, rooms and memberships, over HTTP. */
  void createRooms(int roomCount, int roomSize) {
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<User> users = inBatches(roomCount * roomSize, 64, i -> post(i % nodes.size(), "/api/auth/register", null,
      new JsonObject().put("email", "bench-" + run + "-" + i + "@example.org").put("password", PASSWORD)
        .put("displayName", "user " + i))
      .map(reply -> new User(reply.getJsonObject("user").getString("id"), reply.getString("token"), i % nodes.size())));
    List<String> ids = inBatches(roomCount, 16, r -> post(0, "/api/conversations", users.get(r * roomSize).token(),
      new JsonObject().put("title", "bench room " + r)).map(reply -> reply.getString("id")));
    List<Room> made = new ArrayList<>();
    for (int r = 0; r < roomCount; r++) {
      Room room = new Room(ids.get(r));
      room.members.addAll(users.subList(r * roomSize, (r + 1) * roomSize));
      made.add(room);
    }
    rooms.addAll(made);
    inBatches(roomCount * (roomSize - 1), 64, i -> {
      Room room = made.get(i / (roomSize - 1));
      User member = room.members.get(1 + i % (roomSize - 1));
      return post(0, "/api/conversations/" + room.id + "/members", room.members.get(0).token(),
        new JsonObject().put("userId", member.id()));
    });
  }

  /** Opens every member's socket on its node and joins its room, at most {@code inFlight} handshakes at once. */
  void connectAll(int inFlight) {
    List<Object[]> all = new ArrayList<>();
    for (Room room : rooms) {
      for (User user : room.members) {
        all.add(new Object[] {room, user});
      }
    }
    List<WebSocket> opened = inBatches(all.size(), inFlight, i -> {
      Room room = (Room) all.get(i)[0];
      User user = (User) all.get(i)[1];
      return connect(room, user);
    });
    for (int i = 0; i < all.size(); i++) {
      ((Room) all.get(i)[0]).sockets.add(opened.get(i));
    }
  }

  Future<WebSocket> connect(Room room, User user) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(host(user.node())).setPort(port(user.node()))
      .setURI(authByFrame ? "/ws/chat" : "/ws/chat?token=" + user.token());
    return sockets.connect(options).compose(ws -> {
      io.vertx.core.Promise<WebSocket> joined = io.vertx.core.Promise.promise();
      String join = new JsonObject().put("type", "join").put("conversationId", room.id).encode();
      ws.closeHandler(v -> joined.tryFail("closed with " + ws.closeStatusCode() + " before joining"));
      ws.textMessageHandler(text -> {
        if (!joined.future().isComplete()) {
          if (authByFrame && text.contains("\"type\":\"connection\"")) {
            ws.writeTextMessage(join);
          } else if (text.contains("\"joined\"")) {
            joined.complete(ws);
          } else if (text.contains("\"error\"")) {
            joined.fail(text);
          }
          return;
        }
        onFrame(text);
      });
      // With the token in a frame, the join waits for the connection frame that says it was accepted.
      ws.writeTextMessage(authByFrame ? new JsonObject().put("type", "auth").put("token", user.token()).encode() : join);
      return joined.future();
    });
  }

  private void onFrame(String text) {
    if (text.contains(CHUNK)) {
      int piece = text.indexOf(CHUNK_MARK);
      if (piece >= 0) {
        long written = parseLong(text, piece + CHUNK_MARK.length());
        if (written >= countFrom && written < countUntil) {
          chunks.incrementAndGet();
          chunkLatency.recordValue(Math.max(0, (System.nanoTime() - written) / 1_000));
        }
      }
      return;
    }
    int mark = text.indexOf(MARK);
    if (mark >= 0) {
      long due = parseLong(text, mark + MARK.length());
      if (due >= countFrom && due < countUntil) {
        delivered.incrementAndGet();
        long micros = Math.max(0, (System.nanoTime() - due) / 1_000);
        latency.recordValue(micros);
        timeline.recordValue(micros);
      }
    } else if (text.startsWith("{\"type\":\"ack\"")) {
      acked.incrementAndGet();
    } else if (text.contains("\"type\":\"error\"")) {
      refused.incrementAndGet();
    }
  }

  private static long parseLong(String text, int from) {
    long value = 0;
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        break;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /**
   * Sends one message, due at {@code due} (System.nanoTime), from a random member of the room. Returns the room's
   * size: the number of deliveries it should make.
   */
  int publish(Room room, long due) {
    int sender = ThreadLocalRandom.current().nextInt(room.sockets.size());
    room.sockets.get(sender).writeTextMessage("{\"type\":\"message\",\"conversationId\":\"" + room.id
      + "\",\"content\":\"b:" + due + "\",\"clientMsgId\":\"" + due + "-" + sender + "\"}");
    return room.sockets.size();
  }

  /** Asks the assistant in the room, as its first member. */
  void ask(Room room) {
    room.sockets.get(0).writeTextMessage("{\"type\":\"message\",\"conversationId\":\"" + room.id
      + "\",\"content\":\"@assistant tell the room something\",\"clientMsgId\":\"q-" + System.nanoTime() + "\"}");
  }

  /** Runs {@code count} operations, {@code inFlight} at a time, and gives their results in order. */
  static <T> List<T> inBatches(int count, int inFlight, Function<Integer, Future<T>> operation) {
    List<T> results = new ArrayList<>(count);
    for (int from = 0; from < count; from += inFlight) {
      List<Future<T>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(count, from + inFlight); i++) {
        batch.add(operation.apply(i));
      }
      Future.all(batch).await();
      batch.forEach(done -> results.add(done.result()));
    }
    return results;
  }

  Histogram takeLatency() {
    return latency.getIntervalHistogram();
  }

  @Override
  public void close() {
    for (Room room : rooms) {
      room.sockets.forEach(WebSocket::close);
    }
    http.close();
  }
}
