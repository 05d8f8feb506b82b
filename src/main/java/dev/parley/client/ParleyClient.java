package dev.parley.client;

import dev.parley.bus.Addresses;
import dev.parley.bus.AssistantApi;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.Conversation;
import dev.parley.bus.Member;
import dev.parley.bus.ParleyException;
import dev.parley.bus.StoreClient;
import dev.parley.bus.User;
import dev.parley.config.ClusterSetup;
import dev.parley.config.ParleyConfig;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.List;
import java.util.UUID;

/**
 * Parley for other verticles in the same cluster: rooms, bots, history, room events and assistant context, over
 * the event bus, every call a {@link Future} that fails with a {@link ParleyException}. Nothing here needs
 * PostgreSQL, Redis or HTTP: the Parley nodes of the cluster do the work.
 *
 * <pre>{@code
 * ParleyClient parley = ParleyClient.create(vertx);
 * parley.bot("digest", "Daily digest")
 *   .compose(bot -> parley.createConversation(bot.id(), "Team digest", "off")
 *     .compose(room -> parley.addMember(bot.id(), room.id(), "alice@example.com")
 *       .compose(member -> parley.post(bot.id(), room.id(), "Good morning!"))));
 * }</pre>
 *
 * <p>The event bus is a trusted zone: a verticle that joined the cluster acts as any user it names. Membership
 * rules still hold for what it does as that user (only a room's owner adds members, only members post).
 */
public final class ParleyClient {

  /** The send timeout of every request unless one is given: the nodes' own default ({@code BUS_TIMEOUT_MS}). */
  public static final long DEFAULT_TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final StoreClient store;

  private ParleyClient(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.store = new StoreClient(vertx, false, timeoutMs);
  }

  public static ParleyClient create(Vertx vertx) {
    return create(vertx, DEFAULT_TIMEOUT_MS);
  }

  public static ParleyClient create(Vertx vertx, long timeoutMs) {
    return new ParleyClient(vertx, timeoutMs);
  }

  /**
   * A clustered Vert.x that joins the Parley cluster as a Hazelcast lite member: it takes part in the event bus
   * but holds none of the cluster's data, so it may come and go without the nodes moving partitions. The
   * Hazelcast settings are Parley's ({@code conf/cluster.xml} from the working directory, else the jar's).
   *
   * @param host    the address to listen on and announce to the members (cluster and event bus)
   * @param port    this member's Hazelcast port; the event bus takes a free one
   * @param members {@code host:port} of one or more Parley nodes ({@code CLUSTER_MEMBERS})
   */
  public static Future<Vertx> joinCluster(String host, int port, List<String> members) {
    com.hazelcast.config.Config hazelcast = ClusterSetup.hazelcast(new ParleyConfig.Cluster(true, host, port, members, 0));
    hazelcast.setLiteMember(true);
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost(host).setPort(0);
    return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hazelcast)).buildClustered();
  }

  /**
   * The bot with this handle: an account {@code handle@bot.invalid} with the role {@code bot} and no password,
   * created on first use and renamed to {@code displayName} on later ones. Add it to a room like anyone else,
   * by that address.
   */
  public Future<User> bot(String handle, String displayName) {
    return store.bot(handle, displayName);
  }

  /**
   * A new room owned by {@code ownerId} (a bot or a person).
   *
   * @param assistantMode {@code always}, {@code mention} or {@code off}; null for the default, {@code mention}
   */
  public Future<Conversation> createConversation(String ownerId, String title, String assistantMode) {
    return store.createConversation(ownerId, title, assistantMode, new JsonObject());
  }

  /** The rooms {@code userId} is a member of, latest activity first; pass the page's cursor for the next. */
  public Future<StoreClient.ConversationPage> conversations(String userId, int limit, String cursor) {
    return store.conversations(userId, limit, cursor);
  }

  /** Adds the account with this email (a bot's too) to the room; {@code ownerId} must own it. */
  public Future<Member> addMember(String ownerId, String conversationId, String email) {
    return store.addMember(ownerId, conversationId, null, email);
  }

  public Future<Void> removeMember(String actingUserId, String conversationId, String memberId) {
    return store.removeMember(actingUserId, conversationId, memberId);
  }

  /** {@link #post(String, String, String, String, JsonObject)} with a fresh idempotency key and no metadata. */
  public Future<ChatMessage> post(String senderId, String conversationId, String content) {
    return post(senderId, conversationId, content, UUID.randomUUID().toString(), new JsonObject());
  }

  /**
   * Posts a message as {@code senderId}, a member of the room: it is stored with the next {@code seq}, then
   * published to every member on every node, as a message sent over WebSocket is. The future completes once it
   * is committed, with the stored message. Posting again with the same {@code clientMsgId} stores nothing and
   * answers the original, so a retry after a timeout is safe. Unlike a person's message, it is not rate-limited
   * (the cluster is trusted; {@code MAX_MESSAGE_CHARS} still holds), and it never asks the assistant, whoever
   * the sender, so a bot cannot talk to it in a loop.
   */
  public Future<ChatMessage> post(String senderId, String conversationId, String content, String clientMsgId,
                                  JsonObject metadata) {
    return store.append(conversationId, senderId, ChatMessage.ROLE_USER, content, metadata, clientMsgId)
      .map(StoreClient.Appended::message);
  }

  /**
   * A page of the room's history as {@code userId} (a member) may read it, in ascending {@code seq}: the newest
   * {@code limit} messages with both bounds null, else those after {@code after} and/or before {@code before}.
   */
  public Future<StoreClient.MessagePage> history(String userId, String conversationId, Long after, Long before,
                                                 int limit) {
    return store.messages(userId, conversationId, after, before, limit);
  }

  /**
   * Receives every event of the room as the protocol v1 frame clients get ({@code message}, {@code edited},
   * {@code typing}, {@code presence}, {@code chunk}, ... see the README). Delivery is at most once, like the
   * event bus: after a pause or a reconnection, read what was missed with {@link #history} from the last
   * {@code seq} seen. The future completes once the subscription is registered across the cluster.
   */
  public Future<Subscription> subscribe(String conversationId, Handler<JsonObject> events) {
    MessageConsumer<Buffer> consumer = vertx.eventBus().consumer(Addresses.roomAddress(conversationId),
      event -> events.handle(new JsonObject(event.body())));
    return consumer.completion().map(v -> consumer::unregister);
  }

  /**
   * Contributes context to the assistant's answers (DESIGN.md §6): before it writes an answer, the assistant
   * asks one registered provider, with a short timeout. A null {@link Context}, a failure or a late reply means
   * no context; the answer goes on without it. When several providers are registered, each request goes to one
   * of them (the event bus picks in turn), so register one provider that answers for every room.
   */
  public Future<Subscription> provideContext(ContextProvider provider) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(AssistantApi.CONTEXT, request -> {
      JsonObject body = request.body() == null ? new JsonObject() : request.body();
      Future<Context> answered;
      try {
        answered = provider.context(new ContextRequest(body.getString(AssistantApi.CONVERSATION_ID),
          body.getString(AssistantApi.USER_ID), body.getString(AssistantApi.QUESTION)));
      } catch (RuntimeException e) {
        answered = Future.failedFuture(e);
      }
      answered.onComplete(done -> {
        if (done.failed()) {
          request.fail(dev.parley.bus.ErrorCode.INTERNAL.busCode, "the context provider failed");
        } else {
          request.reply(done.result() == null ? new JsonObject() : done.result().toJson());
        }
      });
    });
    return consumer.completion().map(v -> consumer::unregister);
  }

  /** A registration to undo: a room subscription or a context provider. */
  @FunctionalInterface
  public interface Subscription {
    Future<Void> close();
  }

  /** What the assistant is about to answer: the room, who asked, and the question. */
  public record ContextRequest(String conversationId, String userId, String question) {
  }

  /**
   * Text the assistant adds to its prompt, fenced as data (never as instructions) and labelled with
   * {@code source}; the answer's metadata then says {@code contextUsed: true}. Cached per room and user for
   * {@code ttlSeconds}.
   */
  public record Context(String text, String source, long ttlSeconds) {

    public Context(String text, String source) {
      this(text, source, 60);
    }

    JsonObject toJson() {
      return new JsonObject().put(AssistantApi.CONTEXT_TEXT, text).put(AssistantApi.SOURCE, source)
        .put(AssistantApi.TTL_SECONDS, ttlSeconds);
    }
  }

  @FunctionalInterface
  public interface ContextProvider {
    /** @return the context to add, or a future of null for none */
    Future<Context> context(ContextRequest request);
  }
}
