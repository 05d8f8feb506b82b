package dev.parley.ingress;

import dev.parley.bus.ChatMessage;
import dev.parley.bus.RoomEvents;
import io.vertx.core.buffer.Buffer;

/**
 * One room event as a node received it: its type, its seq (0 for events without one) and the frame's JSON
 * bytes, shared by every local subscriber. The SSE form is built at most once, by the first stream that needs it.
 */
final class RoomEvent {

  final String type;
  final long seq;
  final Buffer json;
  private volatile Buffer sse;

  RoomEvent(String type, long seq, Buffer json) {
    this.type = type;
    this.seq = seq;
    this.json = json;
  }

  static RoomEvent of(ChatMessage message) {
    return new RoomEvent(RoomEvents.MESSAGE, message.seq(), RoomEvents.message(message).toBuffer());
  }

  /** {@code id: <seq>} when there is one, then the frame as one {@code data:} line. */
  Buffer sse() {
    Buffer encoded = sse;
    if (encoded == null) {
      encoded = Buffer.buffer(json.length() + 32);
      if (seq > 0) {
        encoded.appendString("id: ").appendString(Long.toString(seq)).appendString("\n");
      }
      encoded.appendString("data: ").appendBuffer(json).appendString("\n\n");
      sse = encoded;
    }
    return encoded;
  }
}
