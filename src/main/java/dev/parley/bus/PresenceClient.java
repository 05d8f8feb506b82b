package dev.parley.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;

import static dev.parley.bus.PresenceApi.*;

/** The typed face of {@link Addresses#PRESENCE}. */
public final class PresenceClient extends BusClient {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceClient.class);

  /** Past this many remembered refusals, the expired ones are swept. */
  private static final int REFUSALS_SWEPT_AT = 10_000;

  private final boolean failOpen;
  /**
   * Per kind and user, until when (System.nanoTime) Redis said no. Within that time every check would be refused
   * (an allowed action elsewhere only moves the limit later), so a flooding user is answered here, without a round
   * trip to Redis, and costs the others nothing. The time runs from when the check was sent, so it never refuses
   * longer than Redis would.
   */
  private final ConcurrentHashMap<String, Long> refusedUntil = new ConcurrentHashMap<>();

  /** @param failOpen whether a rate check that cannot reach Redis lets the action through */
  public PresenceClient(Vertx vertx, boolean preferLocal, long timeoutMs, boolean failOpen) {
    super(vertx, Addresses.PRESENCE, preferLocal, timeoutMs);
    this.failOpen = failOpen;
  }

  public Future<Void> connect(String conversationId, String connectionId, JsonObject user) {
    return request(CONNECT, new JsonObject().put(CONVERSATION_ID, conversationId).put(CONNECTION_ID, connectionId)
      .put(USER, user)).mapEmpty();
  }

  public Future<Void> disconnect(String conversationId, String connectionId) {
    return request(DISCONNECT, new JsonObject().put(CONVERSATION_ID, conversationId).put(CONNECTION_ID, connectionId))
      .mapEmpty();
  }

  /** @param connections [{conversationId, connectionId, user}] */
  public Future<Void> refresh(JsonArray connections) {
    return request(REFRESH, new JsonObject().put(CONNECTIONS, connections)).mapEmpty();
  }

  /**
   * Who is online in a room: {@code {users: [{id, displayName, connections}], count, truncated}}, at most
   * {@code limit} users (null: the node's {@code PRESENCE_MAX_LISTED}) of the {@code count} online.
   */
  public Future<JsonObject> list(String conversationId, Integer limit) {
    return request(LIST, new JsonObject().put(CONVERSATION_ID, conversationId).put(LIMIT, limit));
  }

  /** Keeps a piece of an answer being written (fire and forget: a lost piece only shortens a late joiner's view). */
  public void answerPiece(String conversationId, String requestId, long offset, String content) {
    request(ANSWER_APPEND, new JsonObject().put(CONVERSATION_ID, conversationId).put(REQUEST_ID, requestId)
      .put(OFFSET, offset).put(CONTENT, content));
  }

  public void answerEnded(String conversationId, String requestId) {
    request(ANSWER_END, new JsonObject().put(CONVERSATION_ID, conversationId).put(REQUEST_ID, requestId));
  }

  /** The text so far of each answer being written in the room: [{requestId, content}]. */
  public Future<JsonArray> answers(String conversationId) {
    return request(ANSWER_PROGRESS, new JsonObject().put(CONVERSATION_ID, conversationId))
      .map(reply -> reply.getJsonArray(ANSWERS, new JsonArray()));
  }

  /** Contributed context cached for this conversation and user: {context, source}, or an empty object. */
  public Future<JsonObject> cachedContext(String conversationId, String userId) {
    return request(CONTEXT_GET, new JsonObject().put(CONVERSATION_ID, conversationId).put(USER_ID, userId));
  }

  public void cacheContext(String conversationId, String userId, String context, String source, long ttlSeconds) {
    request(CONTEXT_PUT, new JsonObject().put(CONVERSATION_ID, conversationId).put(USER_ID, userId)
      .put(CONTEXT, context).put(SOURCE, source).put(TTL_SECONDS, ttlSeconds));
  }

  /**
   * Succeeds when {@code userId} may do one more action of {@code kind}; fails with RATE_LIMIT (carrying
   * {@code retryAfterMs}) when over the limit. When the limiter itself is unusable the configured policy
   * decides: fail open lets the action through, fail closed refuses it as RATE_LIMIT.
   */
  public Future<Void> checkRate(String kind, String userId) {
    String key = kind + '/' + userId;
    long sentAt = System.nanoTime();
    Long until = refusedUntil.get(key);
    if (until != null) {
      if (until - sentAt > 0) {
        return Future.failedFuture(refusal(kind, Math.max(1, (until - sentAt) / 1_000_000)));
      }
      refusedUntil.remove(key, until);
    }
    return request(RATE_CHECK, new JsonObject().put(KIND, kind).put(USER_ID, userId)).transform(done -> {
      if (done.succeeded()) {
        JsonObject reply = done.result();
        if (reply.getBoolean(ALLOWED, true)) {
          return Future.succeededFuture();
        }
        long retryAfterMs = reply.getLong(RETRY_AFTER_MS, 1000L);
        remember(key, sentAt + retryAfterMs * 1_000_000);
        return Future.failedFuture(refusal(kind, retryAfterMs));
      }
      if (failOpen) {
        LOG.debug("rate limiter unusable, letting a {} through: {}", kind, done.cause().getMessage());
        return Future.succeededFuture();
      }
      return Future.failedFuture(new ParleyException(ErrorCode.RATE_LIMIT,
        "the rate limiter is unavailable; try again shortly", 1000L));
    });
  }

  private static ParleyException refusal(String kind, long retryAfterMs) {
    return ParleyException.rateLimited(KIND_MESSAGE.equals(kind) ? "messages" : "assistant requests", retryAfterMs);
  }

  private void remember(String key, long until) {
    if (refusedUntil.size() >= REFUSALS_SWEPT_AT) {
      long now = System.nanoTime();
      refusedUntil.values().removeIf(deadline -> deadline - now <= 0);
    }
    refusedUntil.put(key, until);
  }
}
