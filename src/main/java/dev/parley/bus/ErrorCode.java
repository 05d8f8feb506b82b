package dev.parley.bus;

/**
 * The error codes a client can see, over HTTP ({@code {"error":{"code","message"}}}), in a WebSocket
 * {@code error} frame and as the failure of an event-bus request.
 *
 * <p>{@link #busCode} is the {@code failureCode} carried by {@code message.fail(...)}: numbers of our own,
 * far from Vert.x's negative reply-failure codes, so a caller can tell a Parley failure from a bus one.
 */
public enum ErrorCode {
  INVALID_INPUT(400, 4400),
  UNAUTHORIZED(401, 4401),
  FORBIDDEN(403, 4403),
  NOT_FOUND(404, 4404),
  CONFLICT(409, 4409),
  TOO_LARGE(413, 4413),
  RATE_LIMIT(429, 4429),
  INTERNAL(500, 4500),
  ASSISTANT_UNAVAILABLE(503, 4503),
  UNAVAILABLE(503, 4504);

  public final int httpStatus;
  public final int busCode;

  ErrorCode(int httpStatus, int busCode) {
    this.httpStatus = httpStatus;
    this.busCode = busCode;
  }

  /** The code carried by a bus failure, or {@code null} when the failure code is not one of ours. */
  public static ErrorCode fromBusCode(int busCode) {
    for (ErrorCode code : values()) {
      if (code.busCode == busCode) {
        return code;
      }
    }
    return null;
  }
}
