package dev.parley.ingress;

import io.vertx.core.Context;

/** A local consumer of room events: a WebSocket or an SSE stream. */
interface Subscriber {

  /** The event loop the subscriber lives on; {@link #deliver} is always called there. */
  Context context();

  /** An event of a room the subscriber is attached to, in seq order for messages, never twice. */
  void deliver(String conversationId, RoomEvent event);
}
