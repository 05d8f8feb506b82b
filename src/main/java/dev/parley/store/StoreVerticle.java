package dev.parley.store;

import dev.parley.bus.Addresses;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.Conversation;
import dev.parley.bus.Document;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.Passage;
import dev.parley.bus.Json;
import dev.parley.bus.ParleyException;
import dev.parley.bus.RoomEvents;
import dev.parley.bus.User;
import dev.parley.config.ConfigException;
import dev.parley.config.ParleyConfig;
import dev.parley.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;

import static dev.parley.bus.StoreApi.*;

/**
 * Owns PostgreSQL: applies the migrations, then serves {@link Addresses#STORE} (contract in
 * {@link dev.parley.bus.StoreApi}). After a message commits it is published to its room.
 */
public final class StoreVerticle extends VerticleBase {

  /** The most messages one group-commit transaction writes. */
  private static final int MAX_BATCH = 500;
  /**
   * One group-commit transaction at a time: the next batch forms while it runs, so batches grow with the load,
   * and a batch never overtakes the one before it, so each sender's messages keep the order they arrived in.
   */
  private static final int BATCHES_IN_FLIGHT = 1;

  private static final Logger LOG = LoggerFactory.getLogger(StoreVerticle.class);
  /** SQLSTATE class 22: data exceptions. */
  private static final String DATA_EXCEPTION = "22";
  private static final String USAGE_UPSERT = "INSERT INTO usage (user_id, day, requests, tokens) "
    + "VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1, $2) ON CONFLICT (user_id, day) "
    + "DO UPDATE SET requests = usage.requests + 1, tokens = usage.tokens + EXCLUDED.tokens";
  private static final String USAGE_SELECT = "SELECT requests, tokens FROM usage WHERE user_id = $1 "
    + "AND day = (now() AT TIME ZONE 'UTC')::date";
  /** The longest answer of the assistant (or a system message) the store keeps. */
  static final int MAX_ANSWER_CHARS = 200_000;
  /** The most messages one {@code message.since} answers: bus messages stay a few MB at most. */
  private static final int MAX_SINCE = 500;

  private final ParleyConfig config;
  private final Meters meters;
  private Pool pool;
  private GroupCommit groupCommit;
  private Users users;
  private Conversations conversations;
  private Messages messages;
  private Documents documents;
  private Audit audit;
  private MessageConsumer<JsonObject> consumer;
  private Statistics statistics;

  public StoreVerticle(ParleyConfig config, Meters meters) {
    this.config = config;
    this.meters = meters;
  }

  @Override
  public Future<?> start() {
    PgConnectOptions database = PgConnectOptions.fromUri(config.databaseUrl());
    return vertx.executeBlocking(() -> {
      Migrations.apply(database, config.knowledge().searchLanguage());
      return null;
    }).recover(failure -> {
      LOG.debug("migrations failed", failure);
      return Future.failedFuture(new ConfigException("DATABASE_URL", "PostgreSQL at " + database.getHost() + ":"
        + database.getPort() + "/" + database.getDatabase() + " is not usable: " + rootMessage(failure)));
    }).compose(migrated -> {
      pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(config.dbPoolSize()))
        .connectingTo(database.setCachePreparedStatements(true))
        .using(vertx)
        .build();
      users = new Users(pool);
      conversations = new Conversations(pool);
      messages = new Messages(pool);
      groupCommit = new GroupCommit(pool, messages, MAX_BATCH, BATCHES_IN_FLIGHT, meters.appendBatch::record);
      documents = new Documents(pool, config.knowledge().searchLanguage());
      audit = new Audit(pool);
      statistics = new Statistics(vertx, pool);
      statistics.start();
      consumer = vertx.eventBus().consumer(Addresses.STORE, this::handle);
      return consumer.completion();
    });
  }

  @Override
  public Future<?> stop() {
    if (statistics != null) {
      statistics.stop();
    }
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.eventually(() -> pool == null ? Future.succeededFuture() : pool.close());
  }

  private void handle(Message<JsonObject> message) {
    String action = message.headers().get(Addresses.ACTION);
    Future<?> result;
    try {
      result = dispatch(action == null ? "" : action, message.body() == null ? new JsonObject() : message.body());
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    long started = System.nanoTime();
    String known = action == null ? "none" : action;
    result.onComplete(done -> {
      meters.storeRequest(known.length() > 32 ? "other" : known, System.nanoTime() - started, done.succeeded());
      if (done.succeeded()) {
        Object value = done.result();
        message.reply(value instanceof JsonObject json ? json : new JsonObject());
      } else {
        fail(message, action, done.cause());
      }
    });
  }

  private Future<?> dispatch(String action, JsonObject request) {
    return switch (action) {
      case Addresses.PING -> pool.query("SELECT 1").execute().map(rows -> new JsonObject());
      case USER_CREATE -> {
        String email = Requests.required(request, EMAIL);
        boolean admin = config.knowledge().adminEmails().contains(email.toLowerCase(java.util.Locale.ROOT));
        yield users.create(email, Requests.required(request, DISPLAY_NAME), Requests.required(request, PASSWORD_HASH),
          admin).map(user -> user.toJson());
      }
      case USER_BOT -> users.bot(Requests.required(request, HANDLE), Requests.required(request, DISPLAY_NAME))
        .map(User::toJson);
      case USER_CREDENTIALS -> users.credentials(Requests.required(request, EMAIL));
      case USER_GET -> users.get(Requests.id(request, USER_ID, "user")).map(user -> user.toJson());
      case CONVERSATION_CREATE -> conversations.create(actor(request), Requests.required(request, TITLE),
        mode(request.getString(ASSISTANT_MODE, Conversation.DEFAULT_ASSISTANT_MODE)),
        request.getJsonObject(METADATA, new JsonObject()),
        request.getString(ASSISTANT_MODE) != null && !request.getBoolean(MODE_IS_DEFAULT, false))
        .map(Conversation::toJson);
      case CONVERSATION_LIST -> conversations.list(actor(request), limit(request), request.getString(CURSOR))
        .map(page -> page.toJson());
      case CONVERSATION_GET -> conversations.get(actor(request), conversation(request)).map(Conversation::toJson);
      case CONVERSATION_MEMBERSHIP -> Conversations.membership(pool, actor(request), conversation(request))
        .map(Conversation::toJson);
      case CONVERSATION_UPDATE -> conversations.update(actor(request), conversation(request), request.getString(TITLE),
        request.getString(ASSISTANT_MODE) == null ? null : mode(request.getString(ASSISTANT_MODE)),
        request.getJsonObject(METADATA)).map(updated -> {
          publish(updated.id(), RoomEvents.conversation(updated.id(), RoomEvents.UPDATED));
          return updated.toJson();
        });
      case CONVERSATION_DELETE -> conversations.delete(actor(request), conversation(request))
        .andThen(done -> publishIfDone(done, conversation(request),
          RoomEvents.conversation(conversation(request).toString(), RoomEvents.DELETED)));
      case MEMBER_ADD -> conversations.addMember(actor(request), conversation(request), request.getString(MEMBER_ID),
        request.getString(MEMBER_ID) == null ? Requests.required(request, EMAIL) : null).map(added -> {
          String room = conversation(request).toString();
          publish(room, RoomEvents.member(room, RoomEvents.user(added.member().userId(), added.member().displayName()),
            RoomEvents.ADDED));
          if (added.modeChanged()) {
            publish(room, RoomEvents.conversation(room, RoomEvents.UPDATED));
          }
          return added.member().toJson();
        });
      case MEMBER_REMOVE -> {
        UUID member = Requests.id(request, MEMBER_ID, "member");
        yield conversations.removeMember(actor(request), conversation(request), member)
          .andThen(done -> publishIfDone(done, conversation(request), RoomEvents.member(conversation(request).toString(),
            RoomEvents.user(member.toString(), null), RoomEvents.REMOVED)));
      }
      case MEMBER_READ -> read(request);
      case DOCUMENT_CREATE -> createDocument(request);
      case AUDIT_RECORD -> audit.record(request.getString(USER_ID) == null ? null : actor(request),
        request.getString(EMAIL), Requests.required(request, AUDIT_ACTION), request.getString(TARGET_TYPE),
        request.getString(TARGET_ID), request.getString(ADDRESS), request.getJsonObject(DETAILS));
      case AUDIT_LIST -> audit.list(actor(request), request.getLong(BEFORE), limit(request));
      case USAGE_RECORD -> pool.preparedQuery(USAGE_UPSERT).execute(Tuple.of(actor(request),
          Math.max(0L, request.getLong(TOKENS, 0L))))
        .map(done -> new JsonObject());
      case USAGE_TODAY -> pool.preparedQuery(USAGE_SELECT).execute(Tuple.of(actor(request)))
        .map(rows -> rows.size() == 0 ? new JsonObject().put(REQUESTS, 0).put(TOKENS, 0L)
          : new JsonObject().put(REQUESTS, rows.iterator().next().getInteger("requests"))
            .put(TOKENS, rows.iterator().next().getLong("tokens")));
      case DOCUMENT_LIST -> documents.list(actor(request), optionalConversation(request))
        .map(found -> new JsonObject().put(DOCUMENTS, Json.array(found, Document::toJson)));
      case DOCUMENT_GET -> documents.get(actor(request), Requests.id(request, DOCUMENT_ID, "document"))
        .map(Document::toJson);
      case DOCUMENT_DELETE -> documents.delete(actor(request), Requests.id(request, DOCUMENT_ID, "document"));
      case KNOWLEDGE_SEARCH -> documents.search(actor(request), optionalConversation(request),
          Requests.required(request, QUERY), Math.max(1, Math.min(50, request.getInteger(LIMIT, 8))))
        .map(found -> new JsonObject().put(PASSAGES, Json.array(found, Passage::toJson)));
      case MESSAGE_APPEND -> append(request);
      case MESSAGE_LIST -> messages.list(actor(request), conversation(request), request.getLong(AFTER),
        request.getLong(BEFORE), limit(request)).map(page -> page.toJson());
      case MESSAGE_SINCE -> messages.since(conversation(request), request.getLong(AFTER, 0L),
          Math.max(0, Math.min(MAX_SINCE, request.getInteger(LIMIT, 0))))
        .map(since -> new JsonObject().put(MESSAGES, Json.array(since.messages(), ChatMessage::toJson))
          .put(LAST_SEQ, since.lastSeq()));
      case MESSAGE_EDIT -> messages.edit(actor(request), conversation(request), messageId(request),
        Requests.required(request, CONTENT)).map(edited -> {
          publish(edited.conversationId(), RoomEvents.changed(RoomEvents.EDITED, edited));
          return edited.toJson();
        });
      case MESSAGE_DELETE -> messages.delete(actor(request), conversation(request), messageId(request))
        .map(deleted -> {
          publish(deleted.conversationId(), RoomEvents.changed(RoomEvents.DELETED, deleted));
          return deleted.toJson();
        });
      default -> Future.failedFuture(ParleyException.invalid("unknown store action '" + action + "'"));
    };
  }

  private Future<JsonObject> createDocument(JsonObject request) {
    io.vertx.core.json.JsonArray chunks = request.getJsonArray(CHUNKS, new io.vertx.core.json.JsonArray());
    List<String> texts = new java.util.ArrayList<>();
    chunks.forEach(chunk -> texts.add(String.valueOf(chunk)));
    return documents.create(actor(request), optionalConversation(request), Requests.required(request, TITLE),
        Requests.required(request, FILENAME), Requests.required(request, CONTENT_TYPE), request.getLong(SIZE_BYTES, 0L),
        Requests.required(request, SHA256), request.getBoolean(GLOBAL, false), texts)
      .map(created -> new JsonObject().put(DOCUMENT, created.document().toJson()).put(DUPLICATE, created.duplicate()));
  }

  /** The conversation a request names, or null when it names none (an id that is not one is NOT_FOUND). */
  private static UUID optionalConversation(JsonObject request) {
    return request.getString(CONVERSATION_ID) == null ? null : conversation(request);
  }

  private Future<JsonObject> read(JsonObject request) {
    UUID conversation = conversation(request);
    UUID actor = actor(request);
    Long seq = request.getLong(SEQ);
    if (seq == null || seq < 0) {
      throw ParleyException.invalid(SEQ + " must be a whole number of at least 0");
    }
    return messages.markRead(actor, conversation, seq).map(marker -> {
      if (marker.moved()) {
        publish(conversation.toString(), RoomEvents.read(conversation.toString(),
          RoomEvents.user(actor.toString(), marker.displayName()), marker.seq()));
      }
      return new JsonObject().put(LAST_READ_SEQ, marker.seq());
    });
  }

  /** Every change reaches the room only after its transaction committed. */
  private void publish(String conversationId, JsonObject frame) {
    RoomEvents.publish(vertx.eventBus(), conversationId, frame);
  }

  private void publishIfDone(io.vertx.core.AsyncResult<?> done, UUID conversation, JsonObject frame) {
    if (done.succeeded()) {
      publish(conversation.toString(), frame);
    }
  }

  private Future<JsonObject> append(JsonObject request) {
    UUID conversation = conversation(request);
    String sender = request.getString(SENDER_ID);
    String role = Requests.required(request, ROLE);
    if (!ChatMessage.ROLE_USER.equals(role) && !ChatMessage.ROLE_ASSISTANT.equals(role)
      && !ChatMessage.ROLE_SYSTEM.equals(role)) {
      throw ParleyException.invalid("role must be user, assistant or system");
    }
    if (ChatMessage.ROLE_USER.equals(role) && sender == null) {
      throw ParleyException.invalid(SENDER_ID + " is required for a user message");
    }
    String content = Requests.required(request, CONTENT);
    // People's messages have the configured limit; the assistant's answers (bounded by their own token limit) a
    // hard one.
    int limit = ChatMessage.ROLE_USER.equals(role) ? config.maxMessageChars() : MAX_ANSWER_CHARS;
    if (content.codePointCount(0, content.length()) > limit) {
      throw new ParleyException(ErrorCode.TOO_LARGE, "content is longer than " + limit + " characters");
    }
    long started = System.nanoTime();
    return groupCommit.append(conversation, sender == null ? null : Requests.actor(request, SENDER_ID), role, content,
        request.getJsonObject(METADATA, new JsonObject()), request.getString(CLIENT_MSG_ID))
      .map(appended -> {
        if (!appended.duplicate()) {
          meters.stored.increment();
          meters.trail.stored(appended.message(), System.nanoTime() - started);
          // Published only after commit, so every member sees exactly what was acknowledged.
          publish(conversation.toString(), RoomEvents.message(appended.message()));
        }
        return new JsonObject().put(MESSAGE, appended.message().toJson()).put(DUPLICATE, appended.duplicate())
          .put(ASSISTANT_MODE, appended.assistantMode());
      });
  }

  private static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage();
  }

  private static UUID actor(JsonObject request) {
    return Requests.actor(request, USER_ID);
  }

  private static UUID conversation(JsonObject request) {
    return Requests.id(request, CONVERSATION_ID, "conversation");
  }

  private static UUID messageId(JsonObject request) {
    return Requests.id(request, MESSAGE_ID, "message");
  }

  private static String mode(String mode) {
    if (!Conversation.ASSISTANT_MODES.contains(mode)) {
      throw ParleyException.invalid(ASSISTANT_MODE + " must be one of " + Conversation.ASSISTANT_MODES);
    }
    return mode;
  }

  private static int limit(JsonObject request) {
    Integer limit = request.getInteger(LIMIT, 50);
    if (limit < 1 || limit > 200) {
      throw ParleyException.invalid(LIMIT + " must be between 1 and 200");
    }
    return limit;
  }

  private static void fail(Message<JsonObject> message, String action, Throwable cause) {
    if (cause instanceof ParleyException parley) {
      parley.failTo(message);
      return;
    }
    if (cause instanceof PgException pg && pg.getSqlState() != null && pg.getSqlState().startsWith(DATA_EXCEPTION)) {
      // A value PostgreSQL cannot store (a NUL character, a number out of range): the request's fault.
      LOG.debug("store action {} refused by PostgreSQL: {}", action, pg.getMessage());
      ParleyException.invalid("a value in the request cannot be stored").failTo(message);
      return;
    }
    if (databaseUnreachable(cause)) {
      // Retryable, and said once every 10 s rather than once per request while it lasts.
      long now = System.currentTimeMillis();
      if (now - lastUnreachableWarning > UNREACHABLE_WARNING_MS) {
        lastUnreachableWarning = now;
        LOG.warn("PostgreSQL is unreachable ({}): requests fail with UNAVAILABLE until it is back",
          cause.getMessage());
      }
      new ParleyException(ErrorCode.UNAVAILABLE, "the database is unavailable; retry shortly").failTo(message);
      return;
    }
    LOG.error("store action {} failed", action, cause);
    ParleyException.from(cause).failTo(message);
  }

  private static final long UNREACHABLE_WARNING_MS = 10_000;
  private static volatile long lastUnreachableWarning;

  /**
   * The database, not the request, is the problem: no connection (refused, closed, reset), or PostgreSQL
   * refusing work as a whole (class 08 connection exceptions, 57P01-03 shutting down or starting, 53300 too
   * many connections).
   */
  private static boolean databaseUnreachable(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg && pg.getSqlState() != null) {
        String state = pg.getSqlState();
        return state.startsWith("08") || state.startsWith("57P0") || state.equals("53300");
      }
      // Refused, reset or closed connections: java.net.ConnectException, ClosedChannelException and the rest.
      if (t instanceof java.io.IOException || String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT)
        .matches(".*(connection refused|connection is closed|closed connection|connection reset).*")) {
        return true;
      }
    }
    return false;
  }
}
