package dev.parley.assistant;

import dev.parley.bus.Addresses;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.PresenceApi;
import dev.parley.bus.PresenceClient;
import dev.parley.bus.StoreClient;
import dev.parley.config.ParleyConfig;
import dev.parley.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static dev.parley.bus.AssistantApi.*;

/**
 * The assistant's home on a node (DESIGN.md §6; contract in {@link dev.parley.bus.AssistantApi}). Requests are
 * load-balanced over the cluster's assistant services; each accepted one becomes an {@link Answer} that streams
 * into the room. A stop is published to every assistant service, and the one writing that answer stops it.
 */
public final class AssistantVerticle extends VerticleBase {

  private final ParleyConfig config;
  private final Meters meters;
  private final Map<String, Answer> answers = new HashMap<>();
  private MessageConsumer<JsonObject> requests;
  private MessageConsumer<JsonObject> control;
  private StoreClient store;
  private PresenceClient limits;
  private Provider provider;

  public AssistantVerticle(ParleyConfig config, Meters meters) {
    this.config = config;
    this.meters = meters;
  }

  @Override
  public Future<?> start() {
    provider = switch (config.assistant().provider()) {
      case "openai" -> new OpenAiProvider(vertx, config.assistant());
      case "anthropic" -> new AnthropicProvider(vertx, config.assistant());
      case "http" -> new RagServiceProvider(vertx, config.assistant());
      default -> new ExtractiveProvider(vertx);
    };
    if (provider instanceof HttpProvider remote) {
      meters.breaker(remote.name(), () -> switch (remote.breakerState()) {
        case "open" -> 2;
        case "half_open" -> 1;
        default -> 0;
      });
    }
    store = new StoreClient(vertx, config.hasRole(ParleyConfig.ROLE_STORE), config.busTimeoutMs());
    limits = new PresenceClient(vertx, config.hasRole(ParleyConfig.ROLE_PRESENCE), config.busTimeoutMs(),
      config.realtime().rateLimitFailOpen());
    requests = vertx.eventBus().consumer(Addresses.ASSISTANT, this::handle);
    control = vertx.eventBus().consumer(CONTROL, this::control);
    return Future.join(requests.completion(), control.completion());
  }

  /** Answers being written are stopped: what they wrote so far is kept. */
  @Override
  public Future<?> stop() {
    new ArrayList<>(answers.values()).forEach(Answer::stop);
    return Future.join(requests.unregister(), control.unregister());
  }

  private void handle(Message<JsonObject> message) {
    String action = message.headers().get(Addresses.ACTION);
    if (Addresses.PING.equals(action)) {
      JsonObject state = new JsonObject().put(PROVIDER, provider.name());
      if (provider instanceof HttpProvider remote) {
        state.put(BREAKER, remote.breakerState());
      }
      message.reply(state);
    } else if (ASK.equals(action)) {
      ask(message);
    } else {
      ParleyException.invalid("unknown assistant action '" + action + "'").failTo(message);
    }
  }

  private void ask(Message<JsonObject> message) {
    JsonObject body = message.body() == null ? new JsonObject() : message.body();
    Answer.Question question;
    try {
      question = new Answer.Question(UUID.randomUUID().toString(), required(body, CONVERSATION_ID),
        required(body, USER_ID), body.getString(DISPLAY_NAME), body.getString(MESSAGE_ID), body.getLong(SEQ, 0L),
        required(body, CONTENT));
    } catch (ParleyException e) {
      e.failTo(message);
      return;
    }
    Future<Void> admitted = body.getBoolean(ADMITTED, false) ? Future.succeededFuture()
      : limits.checkRate(PresenceApi.KIND_ASSISTANT, question.userId());
    admitted
      .compose(allowed -> store.usageToday(question.userId()))
      .compose(tokens -> tokens < config.assistant().dailyTokens() ? Future.succeededFuture()
        : Future.failedFuture(new ParleyException(ErrorCode.RATE_LIMIT,
          "today's assistant quota of " + config.assistant().dailyTokens() + " tokens is used up", untilTomorrow())))
      .onSuccess(accepted -> {
        message.reply(new JsonObject().put(REQUEST_ID, question.requestId()));
        Answer answer = new Answer(vertx, question, store, limits, provider, meters, config.assistant().timeoutMs(),
          config.assistant().contextTimeoutMs(), config.assistant().fallback(), () -> answers.remove(question.requestId()));
        answers.put(question.requestId(), answer);
        answer.run();
      })
      .onFailure(failure -> {
        ParleyException refused = ParleyException.from(failure);
        if (refused.retryAfterMs() != null) {
          // A bus failure carries no retry time: a refusal with one is a reply.
          message.reply(new JsonObject().put(ERROR, new JsonObject().put(CODE, refused.code().name())
            .put(MESSAGE, refused.getMessage()).put(RETRY_AFTER_MS, refused.retryAfterMs())));
        } else {
          refused.failTo(message);
        }
      });
  }

  private void control(Message<JsonObject> message) {
    JsonObject body = message.body();
    if (body == null || !STOP.equals(body.getString(ACTION))) {
      return;
    }
    String conversationId = body.getString(CONVERSATION_ID);
    String requestId = body.getString(REQUEST_ID);
    for (Answer answer : new ArrayList<>(answers.values())) {
      if (answer.conversationId().equals(conversationId) && (requestId == null || requestId.equals(answer.requestId()))) {
        answer.stop();
      }
    }
  }

  private static long untilTomorrow() {
    return Duration.between(java.time.Instant.now(),
      LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant()).toMillis();
  }

  private static String required(JsonObject body, String field) {
    String value = body.getString(field);
    if (value == null || value.isBlank()) {
      throw ParleyException.invalid(field + " is required");
    }
    return value;
  }
}
