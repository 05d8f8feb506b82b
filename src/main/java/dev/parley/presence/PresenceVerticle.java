package dev.parley.presence;

import dev.parley.bus.Addresses;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.RoomEvents;
import dev.parley.config.ConfigException;
import dev.parley.config.ParleyConfig;
import dev.parley.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.parley.bus.PresenceApi.*;

/**
 * Owns Redis: cluster-wide presence and rate limits (contract in {@link dev.parley.bus.PresenceApi}).
 *
 * <p>Per room, Redis holds a hash of connections (id to user), a sorted set of their expiry times and a hash
 * counting each user's connections; one sorted set over all rooms lets any node sweep the connections of a
 * crashed node. Nodes refresh their connections every third of {@code PRESENCE_TTL_MS}, and every node sweeps
 * every quarter of it, so a crashed node's users are offline everywhere within about 1.25 TTL.
 */
public final class PresenceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceVerticle.class);
  private static final int SWEEP_BATCH = 1000;
  private static final long MINUTE_MS = 60_000;
  private static final long WARNING_INTERVAL_MS = 10_000;
  /** An answer's pieces outlive any answer's deadline, and then go by themselves if it never ended. */
  private static final long ANSWER_TTL_MS = 15 * 60_000;

  private final ParleyConfig config;
  private final Meters meters;
  private Redis redis;
  private RedisAPI api;
  private MessageConsumer<JsonObject> consumer;
  private long sweeper;
  private long lastWarning;

  public PresenceVerticle(ParleyConfig config, Meters meters) {
    this.config = config;
    this.meters = meters;
  }

  @Override
  public Future<?> start() {
    redis = Redis.createClient(vertx, new RedisOptions()
      .setConnectionString(config.redisUrl())
      .setMaxPoolSize(8)
      .setMaxPoolWaiting(4096)
      .setMaxWaitingHandlers(8192));
    api = RedisAPI.api(redis);
    consumer = vertx.eventBus().consumer(Addresses.PRESENCE, this::handle);
    long every = Math.max(250, config.realtime().presenceTtlMs() / 4);
    sweeper = vertx.setPeriodic(every, every, tick -> sweep());
    URI redisUri = URI.create(config.redisUrl());
    // Start only once Redis answers, so a wrong REDIS_URL fails the start instead of the first request.
    return Future.join(consumer.completion(), api.ping(List.of())
      .recover(failure -> Future.failedFuture(new ConfigException("REDIS_URL",
        "Redis at " + redisUri.getHost() + ":" + redisUri.getPort() + " is not reachable: " + failure.getMessage()))));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweeper);
    return consumer.unregister().eventually(() -> {
      redis.close();
      return Future.succeededFuture();
    });
  }

  private void handle(Message<JsonObject> message) {
    String action = message.headers().get(Addresses.ACTION);
    JsonObject body = message.body() == null ? new JsonObject() : message.body();
    Future<JsonObject> result;
    try {
      result = switch (action == null ? "" : action) {
        case Addresses.PING -> api.ping(List.of()).map(pong -> new JsonObject());
        case CONNECT -> connect(body);
        case DISCONNECT -> disconnect(body);
        case REFRESH -> refresh(body);
        case LIST -> list(body);
        case RATE_CHECK -> rate(body);
        case ANSWER_APPEND -> eval(Scripts.ANSWER_APPEND, required(body, CONVERSATION_ID), required(body, REQUEST_ID),
          Long.toString(body.getLong(OFFSET, 0L)), body.getString(CONTENT, ""), Long.toString(ANSWER_TTL_MS))
          .map(done -> new JsonObject());
        case ANSWER_END -> eval(Scripts.ANSWER_END, required(body, CONVERSATION_ID), required(body, REQUEST_ID),
          Long.toString(ANSWER_TTL_MS)).map(done -> new JsonObject());
        case ANSWER_PROGRESS -> progress(required(body, CONVERSATION_ID));
        case CONTEXT_GET -> api.get(contextKey(body)).map(cached -> cached == null ? new JsonObject()
          : new JsonObject(cached.toString()));
        case CONTEXT_PUT -> api.set(List.of(contextKey(body), new JsonObject().put(CONTEXT, body.getString(CONTEXT, ""))
            .put(SOURCE, body.getString(SOURCE)).encode(), "EX",
            Long.toString(Math.max(1, Math.min(86_400, body.getLong(TTL_SECONDS, 60L))))))
          .map(done -> new JsonObject());
        default -> Future.failedFuture(ParleyException.invalid("unknown presence action '" + action + "'"));
      };
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(done -> {
      if (done.succeeded()) {
        message.reply(done.result());
      } else if (done.cause() instanceof ParleyException parley) {
        parley.failTo(message);
      } else {
        warnThrottled(action, done.cause());
        new ParleyException(ErrorCode.UNAVAILABLE, "Redis is not reachable").failTo(message);
      }
    });
  }

  /** While Redis is down every request fails: one warning per interval says so, not one per message. */
  private void warnThrottled(String action, Throwable cause) {
    long now = System.currentTimeMillis();
    if (now - lastWarning >= WARNING_INTERVAL_MS) {
      lastWarning = now;
      LOG.warn("Redis unusable ({} failed: {}); presence is degraded and rate limits fail {} until it is back",
        action, cause.getMessage(), config.realtime().rateLimitFailOpen() ? "open" : "closed");
    } else {
      LOG.debug("presence action {} failed: {}", action, cause.getMessage());
    }
  }

  private Future<JsonObject> connect(JsonObject body) {
    String room = required(body, CONVERSATION_ID);
    JsonObject user = user(body);
    return eval(Scripts.CONNECT, room, required(body, CONNECTION_ID), user.encode(),
      Long.toString(config.realtime().presenceTtlMs()))
      .map(first -> {
        if (first != null && first.toInteger() == 1) {
          RoomEvents.publish(vertx.eventBus(), room, RoomEvents.presence(room, user, true));
        }
        return new JsonObject();
      });
  }

  private Future<JsonObject> disconnect(JsonObject body) {
    String room = required(body, CONVERSATION_ID);
    // The tombstone outlives any refresh or connect still on its way: two TTLs.
    return eval(Scripts.DISCONNECT, room, required(body, CONNECTION_ID),
      Long.toString(2 * config.realtime().presenceTtlMs())).map(last -> {
      if (last != null) {
        RoomEvents.publish(vertx.eventBus(), room, RoomEvents.presence(room, new JsonObject(last.toString()), false));
      }
      return new JsonObject();
    });
  }

  private Future<JsonObject> refresh(JsonObject body) {
    JsonArray connections = body.getJsonArray(CONNECTIONS, new JsonArray());
    if (connections.isEmpty()) {
      return Future.succeededFuture(new JsonObject());
    }
    List<String> args = new ArrayList<>(3 * connections.size() + 1);
    args.add(Long.toString(config.realtime().presenceTtlMs()));
    for (Object entry : connections) {
      JsonObject connection = (JsonObject) entry;
      args.add(required(connection, CONVERSATION_ID));
      args.add(required(connection, CONNECTION_ID));
      args.add(user(connection).encode());
    }
    return eval(Scripts.REFRESH, args.toArray(String[]::new)).map(online -> {
      publishPairs(online, 0, true);
      return new JsonObject();
    });
  }

  private Future<JsonObject> list(JsonObject body) {
    return eval(Scripts.LIST, required(body, CONVERSATION_ID)).map(connections -> {
      // Every join reads the room's list, so it is counted by the stored text first (a user's connections
      // store the same text) and each distinct text parsed once, not every connection's.
      Map<String, Integer> byText = new LinkedHashMap<>();
      if (connections != null) {
        for (Response connection : connections) {
          byText.merge(connection.toString(), 1, Integer::sum);
        }
      }
      Map<String, JsonObject> users = new LinkedHashMap<>();
      for (Map.Entry<String, Integer> text : byText.entrySet()) {
        JsonObject user = new JsonObject(text.getKey());
        users.merge(user.getString(RoomEvents.USER_ID), user.put(CONNECTIONS, text.getValue()),
          (known, again) -> known.put(CONNECTIONS, known.getInteger(CONNECTIONS) + again.getInteger(CONNECTIONS)));
      }
      return new JsonObject().put(USERS, new JsonArray(new ArrayList<>(users.values())));
    });
  }

  private Future<JsonObject> rate(JsonObject body) {
    String kind = required(body, KIND);
    int perMinute = switch (kind) {
      case KIND_MESSAGE -> config.realtime().messagesPerMinute();
      case KIND_ASSISTANT -> config.realtime().assistantPerMinute();
      default -> throw ParleyException.invalid(KIND + " must be " + KIND_MESSAGE + " or " + KIND_ASSISTANT);
    };
    String key = "parley:rate:" + kind + ":" + required(body, USER_ID);
    return api.eval(List.of(Scripts.RATE, "1", key, Integer.toString(perMinute), Long.toString(MINUTE_MS)))
      .map(wait -> {
        long retryAfter = wait == null ? 0 : wait.toLong();
        if (retryAfter > 0) {
          meters.rateLimited(kind);
        }
        return new JsonObject().put(ALLOWED, retryAfter == 0).put(RETRY_AFTER_MS, retryAfter);
      });
  }

  private static String contextKey(JsonObject body) {
    return "parley:context:{" + required(body, CONVERSATION_ID) + "}:" + required(body, USER_ID);
  }

  /** Each answer's pieces put back together from offset 0, as far as they follow on without a gap. */
  private Future<JsonObject> progress(String room) {
    return eval(Scripts.ANSWER_PROGRESS, room).map(pairs -> {
      JsonArray answers = new JsonArray();
      for (int i = 0; pairs != null && i + 1 < pairs.size(); i += 2) {
        JsonArray flat = new JsonArray(pairs.get(i + 1).toString());
        java.util.TreeMap<Long, String> pieces = new java.util.TreeMap<>();
        for (int j = 0; j + 1 < flat.size(); j += 2) {
          pieces.put(Long.parseLong(flat.getString(j)), flat.getString(j + 1));
        }
        StringBuilder text = new StringBuilder();
        for (Map.Entry<Long, String> piece : pieces.entrySet()) {
          if (piece.getKey() != text.length()) {
            break;
          }
          text.append(piece.getValue());
        }
        answers.add(new JsonObject().put(REQUEST_ID, pairs.get(i).toString()).put(CONTENT, text.toString()));
      }
      return new JsonObject().put(ANSWERS, answers);
    });
  }

  /** Connections of crashed nodes: their users go offline in every room they were in. Batch after batch. */
  private void sweep() {
    eval(Scripts.SWEEP, Integer.toString(SWEEP_BATCH)).onComplete(done -> {
      if (done.succeeded()) {
        publishPairs(done.result(), 1, false);
        if (done.result().get(0).toInteger() == SWEEP_BATCH) {
          sweep();
        }
      } else {
        LOG.debug("presence sweep failed: {}", done.cause().getMessage());
      }
    });
  }

  /** Publishes a presence event for each (room, user JSON) pair a script returned, from index {@code from}. */
  private void publishPairs(Response pairs, int from, boolean online) {
    if (pairs == null) {
      return;
    }
    for (int i = from; i + 1 < pairs.size(); i += 2) {
      String room = pairs.get(i).toString();
      RoomEvents.publish(vertx.eventBus(), room, RoomEvents.presence(room, new JsonObject(pairs.get(i + 1).toString()),
        online));
    }
  }

  /** Runs a script that takes no keys (its keys derive from the room in ARGV). */
  private Future<Response> eval(String script, String... args) {
    List<String> command = new ArrayList<>(args.length + 2);
    command.add(script);
    command.add("0");
    command.addAll(List.of(args));
    return api.eval(command);
  }

  private static JsonObject user(JsonObject body) {
    JsonObject user = body.getJsonObject(USER);
    if (user == null || user.getString(RoomEvents.USER_ID) == null) {
      throw ParleyException.invalid(USER + " with an id is required");
    }
    return RoomEvents.user(user.getString(RoomEvents.USER_ID), user.getString(RoomEvents.USER_NAME));
  }

  private static String required(JsonObject body, String field) {
    String value = body.getString(field);
    if (value == null || value.isEmpty()) {
      throw ParleyException.invalid(field + " is required");
    }
    return value;
  }
}
