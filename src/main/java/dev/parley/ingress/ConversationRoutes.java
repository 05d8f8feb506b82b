package dev.parley.ingress;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Conversation;
import dev.parley.bus.Json;
import dev.parley.bus.Member;
import dev.parley.bus.ParleyException;
import dev.parley.bus.PresenceApi;
import dev.parley.bus.PresenceClient;
import dev.parley.bus.StoreClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import static dev.parley.bus.StoreApi.*;

/**
 * Conversations, their members and their messages. Posting a message here stores it exactly as the
 * WebSocket path does: through {@link StoreClient#append}, with seq and clientMsgId idempotency.
 */
final class ConversationRoutes {

  private static final String BASE = "/api/conversations";
  private static final String ONE = BASE + "/:" + CONVERSATION_ID;
  private static final int MAX_TITLE = 200;
  private static final int MAX_CLIENT_MSG_ID = 64;
  private static final String DEFAULT_TITLE = "New conversation";

  private final StoreClient store;
  private final PresenceClient presence;
  private final AssistantTrigger assistant;
  private final dev.parley.metrics.Meters meters;
  private final Auditor audit;
  private final int maxMessageChars;
  private final int maxMessageBytes;

  ConversationRoutes(StoreClient store, PresenceClient presence, AssistantTrigger assistant,
                     dev.parley.metrics.Meters meters, Auditor audit, int maxMessageChars, int maxMessageBytes) {
    this.audit = audit;
    this.meters = meters;
    this.store = store;
    this.presence = presence;
    this.assistant = assistant;
    this.maxMessageChars = maxMessageChars;
    this.maxMessageBytes = maxMessageBytes;
  }

  void mount(Router router, Authenticator authenticated) {
    router.post(BASE).handler(authenticated).handler(this::create);
    router.get(BASE).handler(authenticated).handler(this::list);
    router.get(ONE).handler(authenticated).handler(this::get);
    router.patch(ONE).handler(authenticated).handler(this::update);
    router.delete(ONE).handler(authenticated).handler(this::delete);
    router.get(ONE + "/members").handler(authenticated).handler(this::members);
    router.post(ONE + "/members").handler(authenticated).handler(this::addMember);
    router.delete(ONE + "/members").handler(authenticated).handler(this::removeMember);
    router.delete(ONE + "/members/:" + USER_ID).handler(authenticated).handler(this::removeMember);
    router.get(ONE + "/presence").handler(authenticated).handler(this::presence);
    router.post(ONE + "/read").handler(authenticated).handler(this::read);
    router.get(ONE + "/messages").handler(authenticated).handler(this::messages);
    router.post(ONE + "/messages").handler(authenticated).handler(this::post);
    router.patch(ONE + "/messages/:" + MESSAGE_ID).handler(authenticated).handler(this::edit);
    router.delete(ONE + "/messages/:" + MESSAGE_ID).handler(authenticated).handler(this::deleteMessage);
  }

  private void create(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, true);
    String title = Inputs.string(body, TITLE, false, MAX_TITLE);
    String mode = assistantMode(body);
    JsonObject metadata = Inputs.metadata(body, METADATA);
    Responses.reply(ctx, 201, store.createConversation(me(ctx), title == null ? DEFAULT_TITLE : title,
        mode == null ? Conversation.DEFAULT_ASSISTANT_MODE : mode, mode == null,
        metadata == null ? new JsonObject() : metadata)
      .map(Conversation::toJson));
  }

  private void list(RoutingContext ctx) {
    int limit = limit(ctx);
    String cursor = ctx.request().getParam(CURSOR);
    Responses.reply(ctx, 200, store.conversations(me(ctx), limit, cursor == null || cursor.isEmpty() ? null : cursor)
      .map(StoreClient.ConversationPage::toJson));
  }

  private void get(RoutingContext ctx) {
    Responses.reply(ctx, 200, store.conversation(me(ctx), conversationId(ctx)).map(Conversation::toJson));
  }

  private void update(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    JsonObject changes = new JsonObject();
    if (body.containsKey(TITLE)) {
      changes.put(TITLE, Inputs.string(body, TITLE, true, MAX_TITLE));
    }
    String mode = assistantMode(body);
    if (mode != null) {
      changes.put(ASSISTANT_MODE, mode);
    }
    JsonObject metadata = Inputs.metadata(body, METADATA);
    if (metadata != null) {
      changes.put(METADATA, metadata);
    }
    if (changes.isEmpty()) {
      throw ParleyException.invalid("nothing to change: give " + TITLE + ", " + ASSISTANT_MODE + " or " + METADATA);
    }
    Responses.reply(ctx, 200, store.updateConversation(me(ctx), conversationId(ctx), changes).map(Conversation::toJson));
  }

  private void delete(RoutingContext ctx) {
    String id = conversationId(ctx);
    Responses.noContent(ctx, store.deleteConversation(me(ctx), id)
      .onSuccess(done -> audit.record(ctx, Auditor.CONVERSATION_DELETED, "conversation", id, new JsonObject())));
  }

  private void members(RoutingContext ctx) {
    Responses.reply(ctx, 200, store.conversation(me(ctx), conversationId(ctx))
      .map(conversation -> new JsonObject().put(Conversation.MEMBERS, Json.array(conversation.members(), Member::toJson))));
  }

  private void addMember(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    String userId = Inputs.string(body, USER_ID, false, 64);
    String email = userId == null ? Inputs.email(body, EMAIL) : null;
    String id = conversationId(ctx);
    Responses.reply(ctx, 201, store.addMember(me(ctx), id, userId, email)
      .onSuccess(member -> audit.record(ctx, Auditor.MEMBER_ADDED, "user", member.userId(),
        new JsonObject().put("conversationId", id)))
      .map(Member::toJson));
  }

  /** {@code DELETE .../members/{userId}}, {@code .../members/me}, or {@code .../members} with an optional body. */
  private void removeMember(RoutingContext ctx) {
    String target = ctx.pathParam(USER_ID);
    if (target == null) {
      target = Inputs.string(Inputs.body(ctx, true), USER_ID, false, 64);
    }
    String member = target == null || "me".equals(target) ? me(ctx) : target;
    String id = conversationId(ctx);
    Responses.noContent(ctx, store.removeMember(me(ctx), id, member)
      .onSuccess(done -> audit.record(ctx, Auditor.MEMBER_REMOVED, "user", member,
        new JsonObject().put("conversationId", id))));
  }

  /**
   * Who is online in the room, cluster-wide: {@code {users: [{id, displayName, connections}], count, truncated}},
   * at most {@code ?limit=} users (1 to 10,000; default {@code PRESENCE_MAX_LISTED}).
   */
  private void presence(RoutingContext ctx) {
    String id = conversationId(ctx);
    Long limit = Inputs.queryLong(ctx, PresenceApi.LIMIT, 1, PresenceApi.MAX_LIMIT);
    Responses.reply(ctx, 200, store.conversation(me(ctx), id)
      .compose(member -> presence.list(id, limit == null ? null : limit.intValue())));
  }

  /** {@code {seq}}: moves the caller's read marker forward; answers {@code {lastReadSeq}}. */
  private void read(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    Long seq = Inputs.seq(body, SEQ);
    if (seq == null) {
      throw ParleyException.invalid(SEQ + " is required");
    }
    Responses.reply(ctx, 200, store.markRead(me(ctx), conversationId(ctx), seq)
      .map(marker -> new JsonObject().put(LAST_READ_SEQ, marker)));
  }

  private void messages(RoutingContext ctx) {
    Long after = Inputs.queryLong(ctx, AFTER, 0, Long.MAX_VALUE);
    Long before = Inputs.queryLong(ctx, BEFORE, 1, Long.MAX_VALUE);
    Responses.reply(ctx, 200, store.messages(me(ctx), conversationId(ctx), after, before, limit(ctx))
      .map(StoreClient.MessagePage::toJson));
  }

  private void post(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    String content = Inputs.content(body, CONTENT, maxMessageChars, maxMessageBytes);
    String clientMsgId = Inputs.string(body, CLIENT_MSG_ID, false, MAX_CLIENT_MSG_ID);
    JsonObject metadata = Inputs.metadata(body, METADATA);
    meters.received.increment();
    Future<StoreClient.Appended> appended = presence.checkRate(PresenceApi.KIND_MESSAGE, me(ctx))
      .compose(allowed -> store.append(conversationId(ctx), me(ctx), ChatMessage.ROLE_USER, content,
        metadata == null ? new JsonObject() : metadata, clientMsgId));
    appended.onComplete(done -> {
      if (done.failed()) {
        ctx.fail(done.cause());
        return;
      }
      // A retry answers 200 with the original message; the first store answers 201. When the message calls for
      // the assistant, "assistant" says whether it is answering (its requestId) or why not.
      meters.trail.accepted(done.result().message(), done.result().duplicate(), "http");
      JsonObject message = done.result().message().toJson();
      int status = done.result().duplicate() ? 200 : 201;
      assistant.after(done.result(), Authenticator.user(ctx)).onComplete(asked -> {
        if (asked.succeeded() && asked.result() != null) {
          message.put("assistant", new JsonObject().put("requestId", asked.result()));
        } else if (asked.failed()) {
          ParleyException refused = ParleyException.from(asked.cause());
          message.put("assistant", new JsonObject().put("error", new JsonObject().put("code", refused.code().name())
            .put("message", refused.getMessage()).put("retryAfterMs", refused.retryAfterMs())));
        }
        Responses.json(ctx, status, message);
      });
    });
  }

  private void edit(RoutingContext ctx) {
    JsonObject body = Inputs.body(ctx, false);
    String content = Inputs.content(body, CONTENT, maxMessageChars, maxMessageBytes);
    Responses.reply(ctx, 200, store.editMessage(me(ctx), conversationId(ctx), ctx.pathParam(MESSAGE_ID), content)
      .map(ChatMessage::toJson));
  }

  private void deleteMessage(RoutingContext ctx) {
    String id = conversationId(ctx);
    Responses.noContent(ctx, store.deleteMessage(me(ctx), id, ctx.pathParam(MESSAGE_ID))
      .onSuccess(deleted -> audit.record(ctx, Auditor.MESSAGE_DELETED, "message", deleted.id(),
        new JsonObject().put("conversationId", id).put("seq", deleted.seq()))));
  }

  private static String assistantMode(JsonObject body) {
    String mode = Inputs.string(body, ASSISTANT_MODE, false, 16);
    if (mode != null && !Conversation.ASSISTANT_MODES.contains(mode)) {
      throw ParleyException.invalid(ASSISTANT_MODE + " must be one of " + Conversation.ASSISTANT_MODES);
    }
    return mode;
  }

  private static int limit(RoutingContext ctx) {
    Long limit = Inputs.queryLong(ctx, LIMIT, 1, 200);
    return limit == null ? 50 : limit.intValue();
  }

  private static String me(RoutingContext ctx) {
    return Authenticator.user(ctx).id();
  }

  private static String conversationId(RoutingContext ctx) {
    return ctx.pathParam(CONVERSATION_ID);
  }
}
