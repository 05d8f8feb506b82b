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
  /** The assistant request of an answer's event ({@code status}, {@code chunk}, …), else null. */
  final String requestId;
  /** When it was published (epoch ms), 0 when unknown (read back from the store). */
  final long publishedAt;
  /** The message's id, on {@code message} events; null on others. */
  final String messageId;
  private volatile Buffer sse;

  RoomEvent(String type, long seq, Buffer json) {
    this(type, seq, json, null);
  }

  RoomEvent(String type, long seq, Buffer json, String requestId) {
    this(type, seq, json, requestId, 0, null);
  }

  RoomEvent(String type, long seq, Buffer json, String requestId, long publishedAt, String messageId) {
    this.publishedAt = publishedAt;
    this.messageId = messageId;
    this.type = type;
    this.seq = seq;
    this.json = json;
    this.requestId = requestId;
  }

  static RoomEvent of(ChatMessage message) {
    return new RoomEvent(RoomEvents.MESSAGE, message.seq(), RoomEvents.message(message).toBuffer(), null, 0,
      message.id());
  }

  /** {@code id: <seq>} for a message, then the frame as one {@code data:} line. */
  Buffer sse() {
    Buffer encoded = sse;
    if (encoded == null) {
      encoded = sse(json, seq > 0 ? seq : null);
      sse = encoded;
    }
    return encoded;
  }

  /** An SSE event of a JSON frame, with an {@code id:} line unless {@code id} is null. */
  static Buffer sse(Buffer json, Long id) {
    Buffer encoded = Buffer.buffer(json.length() + 32);
    if (id != null) {
      encoded.appendString("id: ").appendString(Long.toString(id)).appendString("\n");
    }
    return encoded.appendString("data: ").appendBuffer(json).appendString("\n\n");
  }
}
