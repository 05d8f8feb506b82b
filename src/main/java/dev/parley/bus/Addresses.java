package dev.parley.bus;

/**
 * Every event-bus address Parley uses. Other verticles in the cluster may use these too.
 *
 * <ul>
 *   <li>{@link #STORE}: request/reply, header {@code action} names a {@link StoreApi} action, body JSON.</li>
 *   <li>{@link #PRESENCE}: request/reply, header {@code action} ({@code ping} for now).</li>
 *   <li>{@link #ASSISTANT}: request/reply, header {@code action} ({@code ping} for now).</li>
 *   <li>{@link #roomAddress(String)}: publish only; every room event, body is the protocol v1 frame
 *       ({@code {"type":"message",...}}) so a node can encode it once for all its sockets.</li>
 * </ul>
 */
public final class Addresses {

  public static final String STORE = "parley.store";
  public static final String PRESENCE = "parley.presence";
  public static final String ASSISTANT = "parley.assistant";
  public static final String ASSISTANT_CONTEXT = "parley.assistant.context";
  public static final String ROOM_PREFIX = "parley.room.";

  /** The header that names the action of a request on a service address. */
  public static final String ACTION = "action";

  /** The action every service answers, to prove it is reachable and its backend usable. */
  public static final String PING = "ping";

  private Addresses() {
  }

  public static String roomAddress(String conversationId) {
    return ROOM_PREFIX + conversationId;
  }
}
