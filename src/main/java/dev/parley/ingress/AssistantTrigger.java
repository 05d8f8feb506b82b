package dev.parley.ingress;

import dev.parley.auth.AuthenticatedUser;
import dev.parley.bus.AssistantClient;
import dev.parley.bus.ChatMessage;
import dev.parley.bus.StoreClient;
import io.vertx.core.Future;

import java.util.regex.Pattern;

/**
 * Whether a stored user message calls for the assistant, by its conversation's {@code assistantMode}:
 * {@code always}, {@code mention} (the message says {@code @assistant}) or {@code off}; and the call itself.
 * The same for the WebSocket and the REST path.
 */
final class AssistantTrigger {

  private static final Pattern MENTION = Pattern.compile("(?i)(^|[^\\w@])@assistant\\b");

  private final AssistantClient assistant;

  AssistantTrigger(AssistantClient assistant) {
    this.assistant = assistant;
  }

  static boolean wanted(String mode, String content) {
    return "always".equals(mode) || ("mention".equals(mode) && MENTION.matcher(content).find());
  }

  /** Asks when the message calls for it: the request id, or null when it does not; fails when refused. */
  Future<String> after(StoreClient.Appended appended, AuthenticatedUser user) {
    ChatMessage message = appended.message();
    if (appended.duplicate() || !ChatMessage.ROLE_USER.equals(message.role())
      || !wanted(appended.assistantMode(), message.content())) {
      return Future.succeededFuture(null);
    }
    return assistant.ask(message.conversationId(), user.id(), user.displayName(), message);
  }

  void stop(String conversationId, String requestId) {
    assistant.stop(conversationId, requestId);
  }
}
