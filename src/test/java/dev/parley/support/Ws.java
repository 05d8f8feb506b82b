package dev.parley.support;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A blocking WebSocket client of protocol v1 for tests: every text frame the server sends is kept in order,
 * and {@link #await} takes the first one that matches, leaving the others for later calls.
 */
public final class Ws implements AutoCloseable {

  private static final long DEFAULT_WAIT_MS = 10_000;

  private final Vertx vertx;
  private final ClientWebSocket socket;
  private final List<JsonObject> frames = new ArrayList<>();
  private final CompletableFuture<Short> closed = new CompletableFuture<>();
  /** Numbers the frames in arrival order (kept in each frame as {@code receivedAt}). */
  private long arrivals;

  private Ws(Vertx vertx, ClientWebSocket socket) {
    this.vertx = vertx;
    this.socket = socket;
    // Installed before connecting: the server writes its first frame the moment the upgrade is accepted.
    socket.textMessageHandler(text -> {
      synchronized (frames) {
        frames.add(new JsonObject(text).put("receivedAt", arrivals++));
        frames.notifyAll();
      }
    });
    socket.closeHandler(v -> {
      closed.complete(socket.closeStatusCode() == null ? -1 : socket.closeStatusCode());
      synchronized (frames) {
        frames.notifyAll();
      }
    });
  }

  /** Connects to {@code path} (query included) on a node. */
  public static Ws connect(int port, String path) {
    return connect(port, path, MultiMap.caseInsensitiveMultiMap(), 0);
  }

  /**
   * @param receiveBuffer the client's TCP receive buffer in bytes, 0 for the default: a small one makes a slow
   *                      reader fall behind quickly
   */
  public static Ws connect(int port, String path, MultiMap headers, int receiveBuffer) {
    Vertx vertx = Vertx.vertx();
    WebSocketClientOptions options = new WebSocketClientOptions().setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 24);
    if (receiveBuffer > 0) {
      options.setReceiveBufferSize(receiveBuffer);
    }
    WebSocketClient client = vertx.createWebSocketClient(options);
    WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path)
      .setHeaders(headers);
    try {
      Ws ws = new Ws(vertx, client.webSocket());
      ws.socket.connect(connect).await();
      return ws;
    } catch (RuntimeException e) {
      vertx.close();
      throw e;
    }
  }

  /** Connects with the token in the query and waits for the {@code connection} frame. */
  public static Ws open(int port, String token) {
    Ws ws = connect(port, "/ws/chat?token=" + token);
    ws.await("connection");
    return ws;
  }

  /** The upgrade's refusal: the HTTP status, when the server answered the upgrade with an error. */
  public static int refusedStatus(int port, String path, MultiMap headers) {
    Vertx vertx = Vertx.vertx();
    try {
      WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path)
        .setHeaders(headers);
      Future<WebSocket> attempt = vertx.createWebSocketClient().connect(connect);
      try {
        attempt.await();
        return 101;
      } catch (io.vertx.core.http.UpgradeRejectedException rejected) {
        return rejected.getStatus();
      }
    } finally {
      vertx.close().await();
    }
  }

  public Ws send(JsonObject frame) {
    socket.writeTextMessage(frame.encode()).await();
    return this;
  }

  public Ws sendText(String text) {
    socket.writeTextMessage(text).await();
    return this;
  }

  public Ws sendBinary(Buffer data) {
    socket.writeBinaryMessage(data).await();
    return this;
  }

  public Ws join(String conversationId) {
    send(new JsonObject().put("type", "join").put("conversationId", conversationId));
    await("joined", f -> conversationId.equals(f.getString("conversationId")));
    return this;
  }

  /** A {@code message} frame. */
  public static JsonObject message(String conversationId, String content, String clientMsgId) {
    return new JsonObject().put("type", "message").put("conversationId", conversationId).put("content", content)
      .put("clientMsgId", clientMsgId);
  }

  /** Sends a message and waits for its ack. */
  public JsonObject say(String conversationId, String content, String clientMsgId) {
    send(message(conversationId, content, clientMsgId));
    return await(f -> ("ack".equals(f.getString("type")) || "error".equals(f.getString("type")))
      && clientMsgId.equals(f.getString("clientMsgId")), DEFAULT_WAIT_MS);
  }

  public JsonObject await(String type) {
    return await(type, f -> true);
  }

  public JsonObject await(String type, Predicate<JsonObject> match) {
    return await(f -> type.equals(f.getString("type")) && match.test(f), DEFAULT_WAIT_MS);
  }

  /** Takes the first frame that matches, waiting up to {@code waitMs}; fails the test if none comes. */
  public JsonObject await(Predicate<JsonObject> match, long waitMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
    synchronized (frames) {
      while (true) {
        for (int i = 0; i < frames.size(); i++) {
          if (match.test(frames.get(i))) {
            return frames.remove(i);
          }
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0 || (closed.isDone() && left > 0 && frames.stream().noneMatch(match))) {
          if (closed.isDone()) {
            throw new AssertionError("socket closed (" + closed.getNow(null) + ") without the frame; got " + frames);
          }
          throw new AssertionError("no matching frame within " + waitMs + " ms; got " + frames);
        }
        try {
          frames.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
    }
  }

  /** Every frame received and not yet taken. */
  public List<JsonObject> received() {
    synchronized (frames) {
      return new ArrayList<>(frames);
    }
  }

  /** Waits for the server to close the socket; returns the close code. */
  public short awaitClose(long waitMs) {
    try {
      return closed.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("socket not closed within " + waitMs + " ms; got " + received(), e);
    }
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  /** Stops reading from the socket: the server's writes pile up as for a client that cannot keep up. */
  public void pause() {
    socket.pause();
  }

  /**
   * Waits for a frame of {@code type}, then drops it and every frame received before it: what came before it is
   * done with (say, the events of a subscription that a {@code left} ended).
   */
  public void discardThrough(String type) {
    JsonObject marker = await(type);
    synchronized (frames) {
      frames.removeIf(frame -> frame.getLong("receivedAt", 0L) < marker.getLong("receivedAt"));
    }
  }

  public void resume() {
    socket.resume();
  }

  /** Drops the connection without a close handshake, as a client whose network went away. */
  public void drop() {
    socket.close();
  }

  @Override
  public void close() {
    if (!closed.isDone()) {
      socket.close();
    }
    vertx.close().await();
  }
}
