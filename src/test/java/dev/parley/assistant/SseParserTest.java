package dev.parley.assistant;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Vendors' streams arrive in arbitrary pieces: the parser must not care where they are cut. */
class SseParserTest {

  @Test
  void eventsSurviveAnyCutEvenInsideACharacter() {
    String stream = "event: content_block_delta\r\ndata: {\"text\":\"नमस्ते — café\"}\r\n\r\n: comment\n\n"
      + "data: line one\ndata: line two\n\ndata: [DONE]\n\n";
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    for (int cut = 1; cut < bytes.length; cut++) {
      List<String> events = new ArrayList<>();
      SseParser parser = new SseParser((event, data) -> events.add(event + "|" + data));
      parser.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, 0, cut)));
      parser.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, cut, bytes.length)));
      parser.end();
      assertEquals(List.of("content_block_delta|{\"text\":\"नमस्ते — café\"}", "null|line one\nline two",
        "null|[DONE]"), events, "cut at byte " + cut);
    }
  }
}
