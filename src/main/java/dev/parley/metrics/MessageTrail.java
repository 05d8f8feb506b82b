package dev.parley.metrics;

import dev.parley.bus.ChatMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per step of a message on this node, under the logger {@code dev.parley.messages}, so that
 * searching the logs of all nodes for a message's id tells its story: which node accepted it from its sender,
 * which store committed it (and how long that took), and each node that delivered it to its local sockets and
 * streams. In the JSON log format the id, seq, room and node are also fields ({@code kvpList}).
 *
 * <p>Off by default: at thousands of messages a second a line per step is too much for most operators. Turn
 * it on with {@code LOG_MESSAGES=INFO} (conf/logback.xml). Disabled, each call costs one level check.
 */
public final class MessageTrail {

  private static final Logger LOG = LoggerFactory.getLogger("dev.parley.messages");

  private static final String MESSAGE_ID = "messageId";
  private static final String SEQ = "seq";
  private static final String CONVERSATION_ID = "conversationId";
  private static final String NODE = "node";

  private final String node;

  public MessageTrail(String node) {
    this.node = node;
  }

  /** A client's message was acknowledged to it: {@code via} is websocket, http or chat. */
  public void accepted(ChatMessage message, boolean duplicate, String via) {
    if (LOG.isInfoEnabled()) {
      line(message.id(), message.seq(), message.conversationId())
        .log("message {} seq {} in {} acknowledged {}to {} over {} on node {}", message.id(), message.seq(),
          message.conversationId(), duplicate ? "(a retry, stored before) " : "", message.senderId(), via, node);
    }
  }

  /** The store committed a message and publishes it to its room. */
  public void stored(ChatMessage message, long nanos) {
    if (LOG.isInfoEnabled()) {
      line(message.id(), message.seq(), message.conversationId())
        .log("message {} seq {} in {} stored by node {} in {} µs (role {}, sender {})", message.id(), message.seq(),
          message.conversationId(), node, nanos / 1_000, message.role(), message.senderId());
    }
  }

  /** The node handed a message to its local subscribers; {@code recovered} when read back from the store. */
  public void delivered(String messageId, long seq, String conversationId, int subscribers, boolean recovered) {
    if (LOG.isInfoEnabled()) {
      line(messageId, seq, conversationId)
        .log("message {} seq {} in {} delivered to {} local subscribers on node {}{}", messageId, seq, conversationId,
          subscribers, node, recovered ? " (read back from the store after a gap)" : "");
    }
  }

  /** An INFO line with the fields every step carries, for the JSON log format. */
  private org.slf4j.spi.LoggingEventBuilder line(String messageId, long seq, String conversationId) {
    return LOG.atInfo().addKeyValue(MESSAGE_ID, messageId).addKeyValue(SEQ, seq)
      .addKeyValue(CONVERSATION_ID, conversationId).addKeyValue(NODE, node);
  }

  public static boolean enabled() {
    return LOG.isInfoEnabled();
  }
}
