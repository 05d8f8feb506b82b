package dev.parley.assistant;

import io.vertx.core.buffer.Buffer;

import java.util.function.BiConsumer;

/**
 * Reads a Server-Sent Events stream as it arrives: lines may be split across buffers (a multi-byte character
 * too: bytes are kept until their line is whole, and only whole lines are decoded); each event ends with a blank
 * line and goes to the handler as (event name, data), the name null when the stream gives none.
 */
final class SseParser {

  private final BiConsumer<String, String> onEvent;
  private Buffer pending = Buffer.buffer();
  private String event;
  private StringBuilder data;

  SseParser(BiConsumer<String, String> onEvent) {
    this.onEvent = onEvent;
  }

  void feed(Buffer buffer) {
    pending.appendBuffer(buffer);
    int start = 0;
    for (int i = 0; i < pending.length(); i++) {
      if (pending.getByte(i) == '\n') {
        String line = pending.getString(start, i, "UTF-8");
        line(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
        start = i + 1;
      }
    }
    if (start > 0) {
      pending = pending.getBuffer(start, pending.length());
    }
  }

  /** The stream ended: an event it did not close with a blank line still counts. */
  void end() {
    if (pending.length() > 0) {
      line(pending.toString("UTF-8"));
      pending = Buffer.buffer();
    }
    line("");
  }

  private void line(String line) {
    if (line.isEmpty()) {
      if (data != null) {
        onEvent.accept(event, data.toString());
      }
      event = null;
      data = null;
    } else if (line.startsWith(":")) {
      return;
    } else if (line.startsWith("event:")) {
      event = line.substring(6).strip();
    } else if (line.startsWith("data:")) {
      String value = line.substring(5);
      value = value.startsWith(" ") ? value.substring(1) : value;
      data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
    }
  }
}
