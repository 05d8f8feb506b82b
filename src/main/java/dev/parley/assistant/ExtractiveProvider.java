package dev.parley.assistant;

import dev.parley.bus.Passage;
import dev.parley.knowledge.Terms;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The default provider: no network, no key. It answers with the sentences of the best passages that share the
 * most words with the question, says where each comes from, and says plainly when nothing relevant was found.
 * It writes a few words at a time, as a model would, so the room watches it appear and can stop it.
 */
final class ExtractiveProvider implements Provider {

  static final String MODEL = "extractive";
  static final String NOTHING_FOUND = "I could not find anything about that in the documents I can read here. "
    + "Upload a document that covers it, or ask in other words.";
  private static final int MAX_PASSAGES = 3;
  private static final int SENTENCES_PER_PASSAGE = 2;
  private static final int WORDS_PER_PIECE = 4;
  private static final long PIECE_INTERVAL_MS = 10;
  /** Sentences, and lines: a CSV record or a heading is a unit of its own. */
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?।])\\s+|\\s*\\n\\s*");
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+");

  private final Vertx vertx;

  ExtractiveProvider(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override
  public String name() {
    return MODEL;
  }

  @Override
  public Generation generate(Prompt prompt, Handler<String> onChunk) {
    String answer = compose(prompt.question(), prompt.passages());
    List<String> pieces = pieces(answer);
    Promise<Completion> done = Promise.promise();
    long input = Tokens.estimate(prompt.question()) + prompt.passages().stream()
      .mapToLong(passage -> Tokens.estimate(passage.content())).sum();
    long[] timer = {-1};
    int[] next = {0};
    timer[0] = vertx.setPeriodic(PIECE_INTERVAL_MS, t -> {
      if (next[0] < pieces.size()) {
        onChunk.handle(pieces.get(next[0]++));
      }
      if (next[0] >= pieces.size()) {
        vertx.cancelTimer(timer[0]);
        done.tryComplete(new Completion(answer, MODEL, input, Tokens.estimate(answer)));
      }
    });
    return new Generation() {
      @Override
      public Future<Completion> done() {
        return done.future();
      }

      @Override
      public void cancel(boolean failed) {
        vertx.cancelTimer(timer[0]);
      }
    };
  }

  /** The answer: for each of the best passages, its most relevant sentences, then the sources. */
  static String compose(String question, List<Passage> passages) {
    if (passages.isEmpty()) {
      return NOTHING_FOUND;
    }
    Set<String> terms = terms(question);
    StringBuilder answer = new StringBuilder();
    Map<String, String> sources = new LinkedHashMap<>();
    for (Passage passage : passages.subList(0, Math.min(MAX_PASSAGES, passages.size()))) {
      String excerpt = excerpt(passage.content(), terms);
      if (excerpt.isEmpty()) {
        continue;
      }
      answer.append(answer.length() == 0 ? "" : "\n\n").append("From “").append(passage.title()).append("”: ")
        .append(excerpt);
      sources.putIfAbsent(passage.documentId(), passage.title());
    }
    if (answer.length() == 0) {
      return NOTHING_FOUND;
    }
    return answer.append("\n\nSources: ").append(String.join("; ", sources.values())).toString();
  }

  /** The sentences of a passage that share the most words with the question, in their own order. */
  private static String excerpt(String content, Set<String> terms) {
    String[] sentences = SENTENCE_END.split(content.strip());
    for (int i = 0; i < sentences.length; i++) {
      sentences[i] = HEADING.matcher(sentences[i]).replaceFirst("");
    }
    List<int[]> scored = new ArrayList<>();
    for (int i = 0; i < sentences.length; i++) {
      int score = 0;
      for (String word : terms(sentences[i])) {
        if (terms.contains(word)) {
          score++;
        }
      }
      scored.add(new int[] {i, score});
    }
    scored.sort((a, b) -> b[1] != a[1] ? Integer.compare(b[1], a[1]) : Integer.compare(a[0], b[0]));
    List<Integer> chosen = new ArrayList<>();
    for (int[] sentence : scored) {
      if (chosen.size() < SENTENCES_PER_PASSAGE && (sentence[1] > 0 || chosen.isEmpty())) {
        chosen.add(sentence[0]);
      }
    }
    chosen.sort(Integer::compare);
    StringBuilder excerpt = new StringBuilder();
    for (int index : chosen) {
      excerpt.append(excerpt.length() == 0 ? "" : " ").append(sentences[index].strip());
    }
    return excerpt.toString();
  }

  private static Set<String> terms(String text) {
    return Terms.significant(text);
  }

  /** A few words at a time, keeping the spaces, so the pieces add up to the answer exactly. */
  private static List<String> pieces(String answer) {
    List<String> pieces = new ArrayList<>();
    String[] words = answer.split("(?<=\\s)");
    StringBuilder piece = new StringBuilder();
    int count = 0;
    for (String word : words) {
      piece.append(word);
      if (++count == WORDS_PER_PIECE) {
        pieces.add(piece.toString());
        piece.setLength(0);
        count = 0;
      }
    }
    if (piece.length() > 0) {
      pieces.add(piece.toString());
    }
    return pieces;
  }
}
