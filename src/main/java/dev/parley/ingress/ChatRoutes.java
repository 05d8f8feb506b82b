package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.bus.AssistantClient;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.PresenceApi;
import dev.parley.bus.PresenceClient;
import dev.parley.bus.RoomEvents;
import dev.parley.bus.StoreApi;
import dev.parley.bus.StoreClient;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Talking to the assistant over HTTP: {@code POST /api/chat} ({@code {message, conversationId?, stream}}) and
 * {@code POST /api/chat/stream} (JSON or a form). The question is stored and the answer produced exactly as over
 * WebSocket (same limits, same room events for the other members); this request follows its own answer through
 * the node's room fan-out and returns it as JSON, or streams it as Server-Sent Events:
 * {@code data: {"type":"chunk","content":…}} …, {@code data: {"type":"completion","metadata":{…}}}, then
 * {@code data: [DONE]}.
 */
final class ChatRoutes {

  private static final String MESSAGE = "message";
  private static final String STREAM = "stream";
  private static final int MAX_CLIENT_MSG_ID = 64;
  private static final long HEARTBEAT_MS = 15_000;
  /** Beyond the answer's own deadline: how long to wait for its end when its node went away. */
  private static final long GRACE_MS = 10_000;
  private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");
  private static final Buffer PING = Buffer.buffer(": ping\n\n");

  private final Vertx vertx;
  private final Context context;
  private final RoomHub hub;
  private final StoreClient store;
  private final PresenceClient presence;
  private final AssistantClient assistant;
  private final int maxChars;
  private final int maxBytes;
  private final long answerTimeoutMs;
  private final long dailyTokens;

  ChatRoutes(Vertx vertx, Context context, RoomHub hub, StoreClient store, PresenceClient presence,
             AssistantClient assistant, int maxChars, int maxBytes, long answerTimeoutMs, long dailyTokens) {
    this.dailyTokens = dailyTokens;
    this.vertx = vertx;
    this.context = context;
    this.hub = hub;
    this.store = store;
    this.presence = presence;
    this.assistant = assistant;
    this.maxChars = maxChars;
    this.maxBytes = maxBytes;
    this.answerTimeoutMs = answerTimeoutMs;
  }

  void mount(Router router, Authenticator authenticated) {
    router.post("/api/chat").handler(authenticated).handler(ctx -> chat(ctx, false));
    router.post("/api/chat/stream").handler(authenticated).handler(ctx -> chat(ctx, true));
  }

  private void chat(RoutingContext ctx, boolean alwaysStream) {
    JsonObject body = form(ctx);
    String content = Inputs.content(body, MESSAGE, maxChars, maxBytes);
    String conversationId = Inputs.string(body, StoreApi.CONVERSATION_ID, false, 64);
    String clientMsgId = Inputs.string(body, StoreApi.CLIENT_MSG_ID, false, MAX_CLIENT_MSG_ID);
    Object stream = body.getValue(STREAM);
    boolean streaming = alwaysStream || Boolean.TRUE.equals(stream) || "true".equals(stream);
    AuthenticatedUser me = Authenticator.user(ctx);
    // Every refusal comes before anything is stored: the limits of the message and of the answer, the quota.
    Future<String> room = (conversationId != null ? store.conversation(me.id(), conversationId).<Void>mapEmpty()
        : Future.<Void>succeededFuture())
      .compose(member -> presence.checkRate(PresenceApi.KIND_MESSAGE, me.id()))
      .compose(allowed -> presence.checkRate(PresenceApi.KIND_ASSISTANT, me.id()))
      .compose(allowed -> store.usageToday(me.id()))
      .compose(tokens -> tokens < dailyTokens ? Future.succeededFuture()
        : Future.failedFuture(new ParleyException(ErrorCode.RATE_LIMIT, "today's assistant quota of " + dailyTokens
          + " tokens is used up", 60_000L)))
      .compose(admitted -> conversationId != null ? Future.succeededFuture(conversationId)
        : store.createConversation(me.id(), title(content), "always", true, new JsonObject()).map(c -> c.id()));
    room.onComplete(found -> {
      if (found.failed()) {
        ctx.fail(found.cause());
        return;
      }
      new Exchange(ctx, me, found.result(), streaming).start(content, clientMsgId);
    });
  }

  /** The fields of a JSON body, or of a form ({@code /api/chat/stream} from an HTML form). */
  private static JsonObject form(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data"))) {
      JsonObject fields = new JsonObject();
      ctx.request().formAttributes().forEach(entry -> fields.put(entry.getKey(), entry.getValue()));
      return fields;
    }
    return Inputs.body(ctx, false);
  }

  private static String title(String content) {
    String line = content.strip().replaceAll("\\s+", " ");
    return line.length() <= 60 ? line : line.substring(0, 59) + "…";
  }

  /** One question and its answer, followed through the room's events. Lives on the ingress event loop. */
  private final class Exchange implements Subscriber {
    private final RoutingContext ctx;
    private final HttpServerResponse response;
    private final AuthenticatedUser me;
    private final String room;
    private final boolean streaming;
    private final List<RoomEvent> early = new ArrayList<>();
    private ChatMessage question;
    private String requestId;
    private boolean ended;
    private long heartbeat = -1;
    private long deadline = -1;

    Exchange(RoutingContext ctx, AuthenticatedUser me, String room, boolean streaming) {
      this.ctx = ctx;
      this.response = ctx.response();
      this.me = me;
      this.room = room;
      this.streaming = streaming;
    }

    @Override
    public Context context() {
      return context;
    }

    void start(String content, String clientMsgId) {
      response.closeHandler(v -> end());
      // Subscribed before the question is stored: not one event of the answer can be missed.
      hub.attach(room, this)
        .compose(attached -> store.append(room, me.id(), ChatMessage.ROLE_USER, content, new JsonObject(), clientMsgId))
        .compose(appended -> {
          question = appended.message();
          hub.trail().accepted(question, appended.duplicate(), "chat");
          if (appended.duplicate()) {
            // A retry of a question already asked: it is not asked again (its answer is in the conversation).
            return Future.succeededFuture((String) null);
          }
          return assistant.ask(room, me.id(), me.displayName(), question, true);
        })
        .onSuccess(id -> {
          if (id == null) {
            end();
            Responses.json(ctx, 200, new JsonObject().put("conversationId", room).put("message", question.toJson())
              .put("duplicate", true));
          } else {
            asked(id);
          }
        })
        .onFailure(failure -> {
          end();
          if (!response.headWritten()) {
            ctx.fail(failure);
          }
        });
    }

    private void asked(String id) {
      requestId = id;
      if (ended) {
        return;
      }
      deadline = vertx.setTimer(answerTimeoutMs + GRACE_MS, t -> {
        deadline = -1;
        answerEvent(RoomEvents.error(room, requestId, ErrorCode.ASSISTANT_UNAVAILABLE, "the answer did not arrive"));
      });
      if (streaming) {
        response.setChunked(true)
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
          .putHeader("X-Accel-Buffering", "no")
          .putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY)
          .putHeader("X-Conversation-Id", room)
          .putHeader("X-Request-Id", requestId);
        response.write(PING);
        heartbeat = vertx.setPeriodic(HEARTBEAT_MS, t -> response.write(PING));
      }
      List<RoomEvent> before = new ArrayList<>(early);
      early.clear();
      before.forEach(event -> deliver(room, event));
    }

    @Override
    public void deliver(String conversationId, RoomEvent event) {
      if (ended) {
        return;
      }
      if (event.requestId == null) {
        storedAnswer(event);
        return;
      }
      if (requestId == null) {
        early.add(event);
        return;
      }
      if (requestId.equals(event.requestId)) {
        answerEvent(new JsonObject(event.json));
      }
    }

    /**
     * The stored answer, as a message event: the end of the answer even when its live events never reached this
     * node (a new subscription is seen by other nodes a moment after it is made; the stored message is read back).
     */
    private void storedAnswer(RoomEvent event) {
      if (requestId == null || !RoomEvents.MESSAGE.equals(event.type)) {
        return;
      }
      JsonObject message = new JsonObject(event.json);
      JsonObject metadata = message.getJsonObject(ChatMessage.METADATA, new JsonObject());
      if (ChatMessage.ROLE_ASSISTANT.equals(message.getString(ChatMessage.ROLE))
        && requestId.equals(metadata.getString(RoomEvents.REQUEST_ID))) {
        message.remove(RoomEvents.TYPE);
        answerEvent(RoomEvents.complete(room, requestId, ChatMessage.fromJson(message), metadata));
      }
    }

    private void answerEvent(JsonObject frame) {
      if (ended) {
        return;
      }
      String type = frame.getString(RoomEvents.TYPE);
      if (streaming) {
        JsonObject out = switch (type) {
          case RoomEvents.CHUNK -> new JsonObject().put("type", "chunk").put("content", frame.getString("content"));
          case RoomEvents.STATUS -> new JsonObject().put("type", "status").put("step", frame.getString("step"))
            .put("message", frame.getString("message"));
          case RoomEvents.COMPLETE -> new JsonObject().put("type", "completion")
            .put("metadata", frame.getJsonObject("metadata")).put("message", frame.getJsonObject("message"));
          default -> new JsonObject().put("type", "error").put("code", frame.getString("code"))
            .put("message", frame.getString("message"));
        };
        out.put("conversationId", room).put("requestId", requestId);
        response.write(RoomEvent.sse(out.toBuffer(), null));
        if (RoomEvents.COMPLETE.equals(type) || RoomEvents.ERROR.equals(type)) {
          response.end(DONE);
          end();
        }
        return;
      }
      if (RoomEvents.COMPLETE.equals(type)) {
        end();
        Responses.json(ctx, 200, new JsonObject().put("conversationId", room).put("requestId", requestId)
          .put("message", question.toJson()).put("answer", frame.getJsonObject("message"))
          .put("metadata", frame.getJsonObject("metadata")));
      } else if (RoomEvents.ERROR.equals(type)) {
        end();
        ctx.fail(new ParleyException(ErrorCode.valueOf(frame.getString("code", "ASSISTANT_UNAVAILABLE")),
          frame.getString("message")));
      }
    }

    private void end() {
      if (!ended) {
        ended = true;
        hub.detach(room, this);
        if (heartbeat >= 0) {
          vertx.cancelTimer(heartbeat);
        }
        if (deadline >= 0) {
          vertx.cancelTimer(deadline);
        }
      }
    }
  }
}
