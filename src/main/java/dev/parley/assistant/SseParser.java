package dev.parley.assistant;

import io.vertx.core.buffer.Buffer;

import java.util.function.BiConsumer;

/**
 * Reads a Server-Sent Events stream as it arrives: lines may be split across buffers; each event ends with a
 * blank line and goes to the handler as (event name, data), the name null when the stream gives none.
 */
final class SseParser {

  private final BiConsumer<String, String> onEvent;
  private final StringBuilder pending = new StringBuilder();
  private String event;
  private StringBuilder data;

  SseParser(BiConsumer<String, String> onEvent) {
    this.onEvent = onEvent;
  }

  void feed(Buffer buffer) {
    pending.append(buffer.toString());
    int end;
    while ((end = pending.indexOf("\n")) >= 0) {
      String line = pending.substring(0, end);
      pending.delete(0, end + 1);
      line(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
    }
  }

  /** The stream ended: an event it did not close with a blank line still counts. */
  void end() {
    if (pending.length() > 0) {
      line(pending.toString());
      pending.setLength(0);
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
