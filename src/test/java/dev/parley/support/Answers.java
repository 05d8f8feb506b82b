package dev.parley.support;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reads one answer of the assistant off a socket: its frames from the first status to complete or error. */
public final class Answers {

  private static final List<String> TYPES = List.of("status", "chunk", "complete", "error");

  private Answers() {
  }

  public static List<JsonObject> collect(Ws ws) {
    List<JsonObject> frames = new ArrayList<>();
    while (true) {
      JsonObject frame = ws.await(f -> TYPES.contains(f.getString("type")) && (!"error".equals(f.getString("type"))
        || f.getString("requestId") != null), 15_000);
      frames.add(frame);
      if ("complete".equals(frame.getString("type")) || "error".equals(frame.getString("type"))) {
        return frames;
      }
    }
  }

  public static JsonObject last(List<JsonObject> frames) {
    return frames.get(frames.size() - 1);
  }

  /** The streamed text, checking that the pieces follow on by their offsets. */
  public static String text(List<JsonObject> frames) {
    StringBuilder text = new StringBuilder();
    frames.stream().filter(f -> "chunk".equals(f.getString("type"))).forEach(chunk -> {
      assertEquals(text.length(), chunk.getLong("offset"), "chunks follow on without gaps");
      text.append(chunk.getString("content"));
    });
    return text.toString();
  }

  public static List<String> steps(List<JsonObject> frames) {
    return frames.stream().filter(f -> "status".equals(f.getString("type"))).map(f -> f.getString("step")).toList();
  }
}
