package dev.parley.assistant;

import dev.parley.bus.AssistantApi;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import dev.parley.bus.Passage;
import dev.parley.bus.PresenceClient;
import dev.parley.bus.RoomEvents;
import dev.parley.bus.StoreClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One answer of the assistant, from the question to the stored message. It belongs to the room, not to the
 * socket that asked: it runs to its end on this verticle whoever disconnects, and every member watches it
 * through the room's events: {@code status} at each step, {@code chunk} for each piece of text, then
 * {@code complete} with the stored message, or {@code error} with nothing stored.
 */
final class Answer {

  private static final Logger LOG = LoggerFactory.getLogger(Answer.class);
  static final String ROUTING = "routing";
  static final String RETRIEVING = "retrieving";
  static final String GRADING = "grading";
  static final String GENERATING = "generating";
  private static final int RETRIEVE = 8;
  private static final int KEEP = 4;
  private static final int HISTORY = 10;
  /** A passage ranked below this share of the best one does not make it into the answer. */
  private static final double RELATIVE_FLOOR = 0.35;
  private static final double ABSOLUTE_FLOOR = 0.02;
  /** The longest answer: what the store keeps for the assistant. */
  private static final int MAX_CHARS = 200_000;

  /** What was asked, by whom, where. */
  record Question(String requestId, String conversationId, String userId, String userName, String messageId, long seq,
                  String content) {
  }

  private final Vertx vertx;
  private final Question question;
  private final StoreClient store;
  private final PresenceClient progress;
  private final Provider provider;
  private final dev.parley.metrics.Meters meters;
  private final long started = System.nanoTime();
  private final long timeoutMs;
  private final long contextTimeoutMs;
  private final boolean fallback;
  private final Runnable finished;
  private final StringBuilder text = new StringBuilder();
  private Provider.Generation generation;
  private Provider.Prompt prompt;
  private List<Passage> passages = List.of();
  private Intents.Intent intent = Intents.Intent.QUESTION;
  private boolean done;
  private boolean stopped;
  private boolean contextUsed;
  private long timer = -1;

  /** @param progress keeps the text so far in Redis, for members who join mid-answer */
  Answer(Vertx vertx, Question question, StoreClient store, PresenceClient progress, Provider provider,
         dev.parley.metrics.Meters meters, long timeoutMs, long contextTimeoutMs, boolean fallback, Runnable finished) {
    this.meters = meters;
    this.contextTimeoutMs = contextTimeoutMs;
    this.vertx = vertx;
    this.question = question;
    this.store = store;
    this.progress = progress;
    this.provider = provider;
    this.timeoutMs = timeoutMs;
    this.fallback = fallback;
    this.finished = finished;
  }

  String conversationId() {
    return question.conversationId();
  }

  String requestId() {
    return question.requestId();
  }

  void run() {
    timer = vertx.setTimer(timeoutMs, t -> fail(new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE,
      "the assistant did not answer within " + timeoutMs + " ms")));
    status(ROUTING, "Reading the question");
    intent = Intents.classify(question.content());
    if (intent != Intents.Intent.QUESTION) {
      String reply = Intents.reply(intent, question.content());
      chunk(reply);
      finish(new Provider.Completion(reply, "none", 0, 0));
      return;
    }
    String asked = Intents.question(question.content());
    status(RETRIEVING, "Searching the documents");
    Future<JsonObject> context = context(asked);
    store.search(question.userId(), question.conversationId(), asked, RETRIEVE)
      .compose(found -> {
        status(GRADING, "Weighing " + found.size() + " passage" + (found.size() == 1 ? "" : "s"));
        passages = grade(found);
        return store.messages(question.userId(), question.conversationId(), null, question.seq() + 1, HISTORY);
      })
      .compose(history -> context.map(contributed -> {
        contextUsed = contributed.getString(AssistantApi.CONTEXT_TEXT) != null;
        return new Provider.Prompt(asked, question.userName(), passages, history.messages(),
          contributed.getString(AssistantApi.CONTEXT_TEXT), contributed.getString(AssistantApi.SOURCE));
      }))
      .onSuccess(built -> {
        if (done) {
          return;
        }
        prompt = built;
        status(GENERATING, passages.isEmpty() ? "Writing the answer" : "Writing the answer from "
          + passages.size() + " passage" + (passages.size() == 1 ? "" : "s"));
        generation = provider.generate(prompt, this::chunk);
        generation.done().onComplete(result -> {
          if (result.succeeded()) {
            finish(result.result());
          } else {
            fail(result.cause());
          }
        });
      })
      .onFailure(this::fail);
  }

  /**
   * Context other verticles contribute on {@link AssistantApi#CONTEXT}: from the Redis cache, else asked with a
   * short timeout and cached. Never fails: no contributor, an error or a late answer is no context.
   */
  private Future<JsonObject> context(String asked) {
    io.vertx.core.Promise<JsonObject> bounded = io.vertx.core.Promise.promise();
    long timer = vertx.setTimer(contextTimeoutMs, t -> bounded.tryComplete(new JsonObject()));
    askContext(asked).onComplete(found -> {
      vertx.cancelTimer(timer);
      bounded.tryComplete(found.succeeded() ? found.result() : new JsonObject());
    });
    return bounded.future();
  }

  private Future<JsonObject> askContext(String asked) {
    return progress.cachedContext(question.conversationId(), question.userId()).otherwise(new JsonObject())
      .compose(cached -> cached.getString(AssistantApi.CONTEXT_TEXT) != null ? Future.succeededFuture(cached)
        : vertx.eventBus().<JsonObject>request(AssistantApi.CONTEXT, new JsonObject()
            .put(AssistantApi.CONVERSATION_ID, question.conversationId()).put(AssistantApi.USER_ID, question.userId())
            .put(AssistantApi.QUESTION, asked), new DeliveryOptions().setSendTimeout(contextTimeoutMs))
          .map(reply -> {
            JsonObject body = reply.body() == null ? new JsonObject() : reply.body();
            String text = body.getString(AssistantApi.CONTEXT_TEXT);
            if (text != null) {
              progress.cacheContext(question.conversationId(), question.userId(), text,
                body.getString(AssistantApi.SOURCE), body.getLong(AssistantApi.TTL_SECONDS, 60L));
            }
            return body;
          })
          .otherwise(new JsonObject()));
  }

  /** Stops the answer where it is: what was written so far is stored, marked stopped. */
  void stop() {
    if (done) {
      return;
    }
    stopped = true;
    if (generation != null) {
      generation.cancel(false);
    }
    if (text.length() == 0) {
      end();
      RoomEvents.publish(vertx.eventBus(), question.conversationId(), RoomEvents.error(question.conversationId(),
        question.requestId(), ErrorCode.ASSISTANT_UNAVAILABLE, "stopped before the answer began"));
      return;
    }
    finish(new Provider.Completion(text.toString(), provider.name(), inputEstimate(), Tokens.estimate(text.toString())));
  }

  /** What the provider was given, in tokens, as far as it can be told without its own count. */
  private long inputEstimate() {
    if (prompt == null) {
      return Tokens.estimate(question.content());
    }
    return Tokens.estimate(PromptBuilder.system(prompt)) + Tokens.estimate(PromptBuilder.turns(prompt).encode());
  }

  static List<Passage> grade(List<Passage> found) {
    if (found.isEmpty()) {
      return List.of();
    }
    double best = found.get(0).rank();
    List<Passage> kept = new ArrayList<>();
    for (Passage passage : found) {
      if (kept.size() < KEEP && passage.rank() >= ABSOLUTE_FLOOR && passage.rank() >= best * RELATIVE_FLOOR) {
        kept.add(passage);
      }
    }
    return kept;
  }

  private void chunk(String piece) {
    if (done || piece.isEmpty()) {
      return;
    }
    if (text.length() + piece.length() > MAX_CHARS) {
      // Longer than the store keeps: end it here, as if stopped.
      stop();
      return;
    }
    long offset = text.length();
    text.append(piece);
    progress.answerPiece(question.conversationId(), question.requestId(), offset, piece);
    RoomEvents.publish(vertx.eventBus(), question.conversationId(),
      RoomEvents.chunk(question.conversationId(), question.requestId(), piece, offset));
  }

  private void status(String step, String message) {
    RoomEvents.publish(vertx.eventBus(), question.conversationId(),
      RoomEvents.status(question.conversationId(), question.requestId(), step, message));
  }

  private void finish(Provider.Completion completion) {
    finish(completion, false);
  }

  private void finish(Provider.Completion completion, boolean fromFallback) {
    if (done) {
      return;
    }
    end();
    meters.answer(provider.name(), completion.model(), fromFallback ? "fallback" : stopped ? "stopped" : "answered",
      System.nanoTime() - started, completion.inputTokens(), completion.outputTokens());
    String answer = stopped ? text.toString() : completion.text();
    JsonObject metadata = metadata(completion, fromFallback);
    store.append(question.conversationId(), null, ChatMessage.ROLE_ASSISTANT, answer, metadata,
        "assistant:" + question.requestId())
      .compose(stored -> store.recordUsage(question.userId(), completion.inputTokens() + completion.outputTokens())
        .otherwise(failure -> {
          LOG.warn("usage of request {} not recorded: {}", question.requestId(), failure.getMessage());
          return null;
        })
        .map(v -> stored))
      .onSuccess(stored -> RoomEvents.publish(vertx.eventBus(), question.conversationId(),
        RoomEvents.complete(question.conversationId(), question.requestId(), stored.message(), metadata)))
      .onFailure(failure -> {
        LOG.warn("answer {} not stored: {}", question.requestId(), failure.getMessage());
        publishError(new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the answer could not be stored"));
      });
  }

  private void fail(Throwable failure) {
    if (done) {
      return;
    }
    if (generation != null) {
      generation.cancel(true);
    }
    LOG.warn("assistant request {} failed: {}", question.requestId(), failure.getMessage());
    if (fallback && !passages.isEmpty()) {
      String answer = ExtractiveProvider.compose(Intents.question(question.content()), passages);
      text.setLength(0);
      finish(new Provider.Completion(answer, ExtractiveProvider.MODEL, 0, 0), true);
      return;
    }
    end();
    meters.answer(provider.name(), provider.name(), "failed", System.nanoTime() - started, 0, 0);
    ParleyException parley = failure instanceof ParleyException known && known.code() != ErrorCode.INTERNAL ? known
      : new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the assistant is unavailable; try again shortly");
    publishError(parley.code() == ErrorCode.UNAVAILABLE
      ? new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, parley.getMessage()) : parley);
  }

  private void publishError(ParleyException failure) {
    RoomEvents.publish(vertx.eventBus(), question.conversationId(), RoomEvents.error(question.conversationId(),
      question.requestId(), failure.code(), failure.getMessage()));
  }

  private void end() {
    done = true;
    progress.answerEnded(question.conversationId(), question.requestId());
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    finished.run();
  }

  private JsonObject metadata(Provider.Completion completion, boolean fromFallback) {
    Map<String, JsonObject> sources = new LinkedHashMap<>();
    for (Passage passage : passages) {
      sources.computeIfAbsent(passage.documentId(), id -> new JsonObject().put("documentId", id)
          .put("title", passage.title()).put("chunkIds", new JsonArray()))
        .getJsonArray("chunkIds").add(passage.chunkId());
    }
    double confidence = intent != Intents.Intent.QUESTION ? 1.0
      : passages.isEmpty() ? 0.0 : Math.round(Math.min(1.0, passages.get(0).rank()) * 1000) / 1000.0;
    return new JsonObject()
      .put("requestId", question.requestId())
      .put("inReplyTo", question.messageId())
      .put("intent", intent.label())
      .put("sources", new JsonArray(new ArrayList<>(sources.values())))
      .put("confidence", confidence)
      .put("chunksUsed", passages.size())
      .put("model", completion.model())
      .put("usage", new JsonObject().put("inputTokens", completion.inputTokens())
        .put("outputTokens", completion.outputTokens()))
      .put("stopped", stopped)
      .put("fallback", fromFallback)
      .put("contextUsed", contextUsed);
  }
}
