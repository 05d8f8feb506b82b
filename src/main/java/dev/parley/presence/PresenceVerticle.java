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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static dev.parley.bus.PresenceApi.*;

/**
 * Owns Redis: cluster-wide presence and rate limits (contract in {@link dev.parley.bus.PresenceApi}).
 *
 * <p>Per room, Redis holds a hash of connections (id to user), a sorted set of their expiry times and a hash
 * counting each user's connections; one sorted set over all rooms lets any node sweep the connections of a
 * crashed node. Nodes refresh their connections every third of {@code PRESENCE_TTL_MS}, and every node sweeps
 * every quarter of it, so a crashed node's users are offline everywhere within about 1.25 TTL.
 *
 * <p>A room's members hear of each user who comes online or goes offline while the room has at most
 * {@code PRESENCE_MAX_LISTED} users online. Above that, naming everyone is quadratic (each of 5,000 joins
 * told to up to 5,000 members is 12.5 million frames while the room fills), so a crowded room gets an
 * {@code occupancy} frame with the count instead, at most once a second from each node that saw a change, and
 * the whole list again in the one that brings it back under the limit.
 */
public final class PresenceVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(PresenceVerticle.class);
  private static final int SWEEP_BATCH = 1000;
  private static final long MINUTE_MS = 60_000;
  private static final long WARNING_INTERVAL_MS = 10_000;
  /** An answer's pieces outlive any answer's deadline, and then go by themselves if it never ended. */
  private static final long ANSWER_TTL_MS = 15 * 60_000;
  /** How often a node tells crowded rooms their count, if it changed. */
  private static final long OCCUPANCY_MS = 1000;
  /** Connections in one disconnect script call at most. */
  private static final int MAX_BATCH = 500;

  /** One connection of a room that is leaving it. */
  private record Connection(String room, String id) {
  }

  /** What a disconnect changed: the user's JSON if it went offline, else null; and the room's count after it. */
  private record Change(String room, String user, long online) {
  }

  private final ParleyConfig config;
  private final Meters meters;
  private Redis redis;
  private RedisAPI api;
  private MessageConsumer<JsonObject> consumer;
  private long sweeper;
  private long occupancyTimer;
  private long lastWarning;
  /** Crowded rooms whose count changed since they were last told it. */
  private final Set<String> recounted = new LinkedHashSet<>();
  private final ScriptBatch<Connection, Change> disconnects = new ScriptBatch<>(MAX_BATCH, this::disconnectAll);

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
    occupancyTimer = vertx.setPeriodic(OCCUPANCY_MS, OCCUPANCY_MS, tick -> tellOccupancy());
    URI redisUri = URI.create(config.redisUrl());
    // Start only once Redis answers, so a wrong REDIS_URL fails the start instead of the first request.
    return Future.join(consumer.completion(), api.ping(List.of())
      .recover(failure -> Future.failedFuture(new ConfigException("REDIS_URL",
        "Redis at " + redisUri.getHost() + ":" + redisUri.getPort() + " is not reachable: " + failure.getMessage()))));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweeper);
    vertx.cancelTimer(occupancyTimer);
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
        case ANSWER_APPEND -> eval(Scripts.ANSWER_APPEND, List.of(required(body, CONVERSATION_ID),
          required(body, REQUEST_ID), Long.toString(body.getLong(OFFSET, 0L)), body.getString(CONTENT, ""),
          Long.toString(ANSWER_TTL_MS))).map(done -> new JsonObject());
        case ANSWER_END -> eval(Scripts.ANSWER_END, List.of(required(body, CONVERSATION_ID), required(body, REQUEST_ID),
          Long.toString(ANSWER_TTL_MS))).map(done -> new JsonObject());
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

  /**
   * One script call per join, not batched: a join waits for its connect, and joins batched behind one call in
   * flight halved the connects a second the node took (258 against 553 in bench/run capacity).
   */
  private Future<JsonObject> connect(JsonObject body) {
    String room = required(body, CONVERSATION_ID);
    String user = user(body).encode();
    return eval(Scripts.CONNECT, List.of(Long.toString(config.realtime().presenceTtlMs()), room,
      required(body, CONNECTION_ID), user)).map(reply -> {
        if (reply.get(0).toInteger() == 1) {
          announce(room, user, true, reply.get(1).toLong());
        }
        return new JsonObject();
      });
  }

  private Future<JsonObject> disconnect(JsonObject body) {
    return disconnects.add(new Connection(required(body, CONVERSATION_ID), required(body, CONNECTION_ID)))
      .map(change -> {
        if (change.user() != null) {
          announce(change.room(), change.user(), false, change.online());
        }
        return new JsonObject();
      });
  }

  /** Leaves that arrived together, in one script call: two values per connection, the user gone and the count. */
  private Future<List<Change>> disconnectAll(List<Connection> batch) {
    List<String> args = new ArrayList<>(2 * batch.size() + 1);
    // The tombstone outlives any refresh or connect still on its way: two TTLs.
    args.add(Long.toString(2 * config.realtime().presenceTtlMs()));
    for (Connection connection : batch) {
      args.add(connection.room());
      args.add(connection.id());
    }
    return eval(Scripts.DISCONNECT, args).map(reply -> {
      List<Change> changes = new ArrayList<>(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        String gone = reply.get(2 * i).toString();
        changes.add(new Change(batch.get(i).room(), gone.isEmpty() ? null : gone, reply.get(2 * i + 1).toLong()));
      }
      return changes;
    });
  }

  /**
   * Tells a room's members that a user came online or went offline: by name while the room lists everyone,
   * otherwise by the next {@code occupancy} frame. The offline that brings a crowded room down to the limit
   * goes that way too, since that frame lists everyone again for members who only had part of the list.
   */
  private void announce(String room, String user, boolean online, long count) {
    int max = config.realtime().presenceMaxListed();
    if (online ? count <= max : count < max) {
      RoomEvents.publish(vertx.eventBus(), room, RoomEvents.presence(room, new JsonObject(user), online));
    } else {
      recounted.add(room);
    }
  }

  private void tellOccupancy() {
    if (recounted.isEmpty()) {
      return;
    }
    List<String> rooms = new ArrayList<>(recounted);
    recounted.clear();
    int max = config.realtime().presenceMaxListed();
    for (String room : rooms) {
      listed(room, max).onComplete(done -> {
        if (done.succeeded()) {
          JsonObject listed = done.result();
          RoomEvents.publish(vertx.eventBus(), room, RoomEvents.occupancy(room, listed.getLong(COUNT),
            listed.getBoolean(TRUNCATED) ? null : listed.getJsonArray(USERS)));
        } else {
          LOG.debug("occupancy of {} failed: {}", room, done.cause().getMessage());
        }
      });
    }
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
    return eval(Scripts.REFRESH, args).map(online -> {
      announceAll(online, 0, true);
      return new JsonObject();
    });
  }

  private Future<JsonObject> list(JsonObject body) {
    Integer limit = body.getInteger(LIMIT);
    if (limit != null && (limit < 1 || limit > MAX_LIMIT)) {
      throw ParleyException.invalid(LIMIT + " must be between 1 and " + MAX_LIMIT);
    }
    return listed(required(body, CONVERSATION_ID), limit == null ? config.realtime().presenceMaxListed() : limit);
  }

  /** {users: [{id, displayName, connections}], count, truncated}: at most {@code max} of the room's users. */
  private Future<JsonObject> listed(String room, int max) {
    return eval(Scripts.LIST, List.of(room, Integer.toString(max))).map(reply -> {
      // By id: a user who was renamed between two connections has two texts.
      Map<String, JsonObject> users = new LinkedHashMap<>();
      for (int i = 1; i + 1 < reply.size(); i += 2) {
        JsonObject user = new JsonObject(reply.get(i).toString()).put(CONNECTIONS, reply.get(i + 1).toInteger());
        users.merge(user.getString(RoomEvents.USER_ID), user,
          (known, again) -> known.put(CONNECTIONS, known.getInteger(CONNECTIONS) + again.getInteger(CONNECTIONS)));
      }
      long count = reply.get(0).toLong();
      return new JsonObject().put(USERS, new JsonArray(new ArrayList<>(users.values()))).put(COUNT, count)
        .put(TRUNCATED, users.size() < count);
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
    return Scripts.run(api, Scripts.RATE, List.of("1", key, Integer.toString(perMinute), Long.toString(MINUTE_MS)))
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
    return eval(Scripts.ANSWER_PROGRESS, List.of(room)).map(pairs -> {
      JsonArray answers = new JsonArray();
      for (int i = 0; pairs != null && i + 1 < pairs.size(); i += 2) {
        JsonArray flat = new JsonArray(pairs.get(i + 1).toString());
        TreeMap<Long, String> pieces = new TreeMap<>();
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
    eval(Scripts.SWEEP, List.of(Integer.toString(SWEEP_BATCH))).onComplete(done -> {
      if (done.succeeded()) {
        announceAll(done.result(), 1, false);
        if (done.result().get(0).toInteger() == SWEEP_BATCH) {
          sweep();
        }
      } else {
        LOG.debug("presence sweep failed: {}", done.cause().getMessage());
      }
    });
  }

  /** Announces each (room, user JSON, count) triple a script returned, from index {@code from}. */
  private void announceAll(Response triples, int from, boolean online) {
    if (triples == null) {
      return;
    }
    for (int i = from; i + 2 < triples.size(); i += 3) {
      announce(triples.get(i).toString(), triples.get(i + 1).toString(), online, triples.get(i + 2).toLong());
    }
  }

  /** Runs a script that takes no keys (its keys derive from the room in ARGV). */
  private Future<Response> eval(Scripts.Script script, List<String> args) {
    List<String> command = new ArrayList<>(args.size() + 1);
    command.add("0");
    command.addAll(args);
    return Scripts.run(api, script, command);
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
