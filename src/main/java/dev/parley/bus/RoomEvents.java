package dev.parley.bus;

import io.vertx.core.json.JsonObject;

/**
 * The events published on {@link Addresses#roomAddress(String)}. Each is the protocol v1 server frame that
 * clients receive, so a node can encode it once and write the same bytes to all its sockets.
 */
public final class RoomEvents {

  /** Every frame names its kind in this field. */
  public static final String TYPE = "type";
  /** A message was stored: the {@link ChatMessage} fields, published after its transaction commits. */
  public static final String MESSAGE = "message";

  private RoomEvents() {
  }

  public static JsonObject message(ChatMessage message) {
    return message.toJson().put(TYPE, MESSAGE);
  }
}
