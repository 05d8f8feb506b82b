package dev.parley.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import static dev.parley.bus.AssistantApi.*;

/** The typed face of {@link Addresses#ASSISTANT}: the request goes to any assistant of the cluster. */
public final class AssistantClient extends BusClient {

  private final Vertx vertx;

  public AssistantClient(Vertx vertx, long timeoutMs) {
    super(vertx, Addresses.ASSISTANT, false, timeoutMs);
    this.vertx = vertx;
  }

  /** Asks the assistant to answer a stored message; completes with the request id once it is accepted. */
  public Future<String> ask(String conversationId, String userId, String displayName, ChatMessage message) {
    return ask(conversationId, userId, displayName, message, false);
  }

  /** @param admitted the caller already counted the request against the assistant's rate limit */
  public Future<String> ask(String conversationId, String userId, String displayName, ChatMessage message,
                            boolean admitted) {
    return request(ASK, new JsonObject().put(CONVERSATION_ID, conversationId).put(USER_ID, userId)
      .put(DISPLAY_NAME, displayName).put(MESSAGE_ID, message.id()).put(SEQ, message.seq())
      .put(CONTENT, message.content()).put(ADMITTED, admitted))
      .compose(reply -> {
        JsonObject error = reply.getJsonObject(ERROR);
        if (error == null) {
          return Future.succeededFuture(reply.getString(REQUEST_ID));
        }
        ErrorCode code = ErrorCode.valueOf(error.getString(CODE, ErrorCode.RATE_LIMIT.name()));
        return Future.failedFuture(new ParleyException(code, error.getString(MESSAGE), error.getLong(RETRY_AFTER_MS)));
      })
      .recover(failure -> {
        ParleyException parley = ParleyException.from(failure);
        return Future.failedFuture(parley.code() == ErrorCode.UNAVAILABLE
          ? new ParleyException(ErrorCode.ASSISTANT_UNAVAILABLE, "the assistant is not available") : parley);
      });
  }

  /** Stops the answers being written in a room, or only the one of {@code requestId} (nullable). */
  public void stop(String conversationId, String requestId) {
    vertx.eventBus().publish(CONTROL, new JsonObject().put(ACTION, STOP).put(CONVERSATION_ID, conversationId)
      .put(REQUEST_ID, requestId));
  }
}
