package dev.parley.bus;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

/**
 * The one error type of Parley: a code, and a message that is safe to show to a client.
 * Internal detail belongs in the log, never in {@link #getMessage()}.
 */
public final class ParleyException extends RuntimeException {

  private final ErrorCode code;
  private final Long retryAfterMs;

  public ParleyException(ErrorCode code, String message) {
    this(code, message, null);
  }

  /** @param retryAfterMs when the client may try again (RATE_LIMIT), or null */
  public ParleyException(ErrorCode code, String message, Long retryAfterMs) {
    super(message, null, false, false);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  public ErrorCode code() {
    return code;
  }

  /** When the client may try again, for RATE_LIMIT; null otherwise. */
  public Long retryAfterMs() {
    return retryAfterMs;
  }

  public static ParleyException rateLimited(String what, long retryAfterMs) {
    return new ParleyException(ErrorCode.RATE_LIMIT, "too many " + what + "; retry in " + retryAfterMs
      + " ms", retryAfterMs);
  }

  public static ParleyException invalid(String message) {
    return new ParleyException(ErrorCode.INVALID_INPUT, message);
  }

  public static ParleyException notFound(String message) {
    return new ParleyException(ErrorCode.NOT_FOUND, message);
  }

  public static ParleyException forbidden(String message) {
    return new ParleyException(ErrorCode.FORBIDDEN, message);
  }

  public static ParleyException unauthorized(String message) {
    return new ParleyException(ErrorCode.UNAUTHORIZED, message);
  }

  /** Sends this failure back over the bus; {@link #from(Throwable)} turns it back into a ParleyException. */
  public void failTo(Message<?> message) {
    message.fail(code.busCode, getMessage());
  }

  /**
   * Maps any failure to a ParleyException: ours pass through, bus failures become their Parley meaning
   * (no handler or a timeout means the service is unavailable), anything else is INTERNAL with a generic
   * message so that no internal detail leaks.
   */
  public static ParleyException from(Throwable failure) {
    if (failure instanceof ParleyException parley) {
      return parley;
    }
    if (failure instanceof ReplyException reply) {
      switch (reply.failureType()) {
        case NO_HANDLERS:
          return new ParleyException(ErrorCode.UNAVAILABLE, "service not available on the cluster");
        case TIMEOUT:
          return new ParleyException(ErrorCode.UNAVAILABLE, "service did not answer in time");
        default:
          ErrorCode code = ErrorCode.fromBusCode(reply.failureCode());
          if (code != null) {
            return new ParleyException(code, reply.getMessage());
          }
      }
    }
    return new ParleyException(ErrorCode.INTERNAL, "internal error");
  }
}
