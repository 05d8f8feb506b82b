package dev.parley.ingress;

import dev.parley.bus.ErrorCode;
import dev.parley.bus.ParleyException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Reads and checks client input. Every problem is an INVALID_INPUT (or TOO_LARGE) that names the field, thrown
 * before anything is stored.
 */
final class Inputs {

  private static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$");
  static final int MAX_METADATA_BYTES = 16 * 1024;

  private Inputs() {
  }

  /** The request body as a JSON object; an absent body is an empty object when {@code optional}. */
  static JsonObject body(RoutingContext ctx, boolean optional) {
    Buffer buffer = ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) {
      if (optional) {
        return new JsonObject();
      }
      throw ParleyException.invalid("request body must be a JSON object");
    }
    Object parsed;
    try {
      parsed = io.vertx.core.json.Json.decodeValue(buffer);
    } catch (DecodeException e) {
      throw ParleyException.invalid("request body is not valid JSON");
    }
    if (parsed instanceof JsonObject json) {
      return json;
    }
    throw ParleyException.invalid("request body must be a JSON object");
  }

  static String string(JsonObject body, String field, boolean required, int maxLength) {
    Object value = body.getValue(field);
    if (value == null) {
      if (required) {
        throw ParleyException.invalid(field + " is required");
      }
      return null;
    }
    if (!(value instanceof String text)) {
      throw ParleyException.invalid(field + " must be a string");
    }
    String trimmed = storable(field, text.trim());
    if (trimmed.isEmpty()) {
      if (required) {
        throw ParleyException.invalid(field + " must not be empty");
      }
      return null;
    }
    if (length(trimmed) > maxLength) {
      throw ParleyException.invalid(field + " must be at most " + maxLength + " characters");
    }
    return trimmed;
  }

  static String email(JsonObject body, String field) {
    String email = string(body, field, true, 254);
    if (!EMAIL.matcher(email).matches()) {
      throw ParleyException.invalid(field + " is not a valid email address");
    }
    return email.toLowerCase(java.util.Locale.ROOT);
  }

  /** A new password: 8 to 1024 characters. */
  static String newPassword(JsonObject body, String field) {
    String password = password(body, field);
    if (length(password) < 8) {
      throw ParleyException.invalid(field + " must be between 8 and 1024 characters");
    }
    return password;
  }

  /** A password to check: any string up to 1024 characters; a wrong one is for the login to refuse. */
  static String password(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (!(value instanceof String password)) {
      throw ParleyException.invalid(value == null ? field + " is required" : field + " must be a string");
    }
    if (length(password) > 1024) {
      throw ParleyException.invalid(field + " must be between 8 and 1024 characters");
    }
    return password;
  }

  /** Lengths are counted in characters as people count them (code points), not UTF-16 units. */
  static int length(String text) {
    return text.codePointCount(0, text.length());
  }

  /**
   * Message content: kept as written (not trimmed), must not be blank, and over either limit is TOO_LARGE:
   * {@code maxChars} as people count characters, {@code maxBytes} as UTF-8 stores them.
   */
  static String content(JsonObject body, String field, int maxChars, int maxBytes) {
    Object value = body.getValue(field);
    if (!(value instanceof String content)) {
      throw ParleyException.invalid(value == null ? field + " is required" : field + " must be a string");
    }
    if (content.isBlank()) {
      throw ParleyException.invalid(field + " must not be empty");
    }
    storable(field, content);
    if (length(content) > maxChars) {
      throw new ParleyException(ErrorCode.TOO_LARGE, field + " must be at most " + maxChars + " characters");
    }
    // A UTF-8 character takes at most 4 bytes (a UTF-16 unit at most 3): count only when it could matter.
    if ((long) content.length() * 3 > maxBytes && content.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
      throw new ParleyException(ErrorCode.TOO_LARGE, field + " must be at most " + maxBytes + " bytes of UTF-8");
    }
    return content;
  }

  static JsonObject metadata(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject metadata)) {
      throw ParleyException.invalid(field + " must be a JSON object");
    }
    String encoded = metadata.encode();
    if (encoded.length() > MAX_METADATA_BYTES) {
      throw new ParleyException(ErrorCode.TOO_LARGE, field + " must be at most " + MAX_METADATA_BYTES + " bytes");
    }
    if (encoded.contains("\\u0000")) {
      throw ParleyException.invalid(field + " must not contain NUL characters");
    }
    return metadata;
  }

  /** PostgreSQL text cannot hold U+0000: refuse it here rather than fail in the database. */
  private static String storable(String field, String text) {
    if (text.indexOf('\u0000') >= 0) {
      throw ParleyException.invalid(field + " must not contain NUL characters");
    }
    return text;
  }

  /** A seq in a JSON body or frame: a whole number of at least 0, or absent (null). */
  static Long seq(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number number) || number.longValue() < 0 || number.doubleValue() != number.longValue()) {
      throw ParleyException.invalid(field + " must be a whole number of at least 0");
    }
    return number.longValue();
  }

  /** A query parameter that must be a whole number in range, or absent. */
  static Long queryLong(RoutingContext ctx, String name, long min, long max) {
    String value = ctx.request().getParam(name);
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      long parsed = Long.parseLong(value);
      if (parsed >= min && parsed <= max) {
        return parsed;
      }
    } catch (NumberFormatException ignored) {
      // falls through
    }
    throw ParleyException.invalid(name + " must be a whole number between " + min + " and " + max);
  }
}
