package dev.parley.assistant;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.Passage;
import io.vertx.core.Future;
import io.vertx.core.Handler;

import java.util.List;

/**
 * Where answers come from: the extractive composer, or a model behind a vendor's streaming API. One instance
 * per assistant verticle; each stands behind its own circuit breaker.
 */
interface Provider {

  /**
   * What the answer is built from: the question, the graded passages, the conversation so far, and context
   * another verticle contributed ({@code context} null when none).
   */
  record Prompt(String question, String askerName, List<Passage> passages, List<ChatMessage> history, String context,
                String contextSource) {
  }

  /** A finished answer: its text, the model that wrote it, and the tokens it took. */
  record Completion(String text, String model, long inputTokens, long outputTokens) {
  }

  /** An answer being written; {@link #cancel} stops it at once (the upstream request is reset). */
  interface Generation {
    Future<Completion> done();

    /** @param failed true when it is given up on (a timeout), which counts against the provider's breaker */
    void cancel(boolean failed);
  }

  String name();

  /** Starts an answer. Pieces of text go to {@code onChunk} as they come, on the verticle's event loop. */
  Generation generate(Prompt prompt, Handler<String> onChunk);
}
