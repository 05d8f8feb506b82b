package dev.parley.store;

import dev.parley.bus.ParleyException;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * Reads the fields of a store request. The store is reachable by any verticle of the cluster, so it checks
 * what it relies on rather than trusting the ingress: a missing field is INVALID_INPUT, and an id that is
 * not a UUID names nothing, so it is NOT_FOUND like any other unknown id.
 */
final class Requests {

  private Requests() {
  }

  static String required(JsonObject request, String field) {
    String value = request.getString(field);
    if (value == null || value.isBlank()) {
      throw ParleyException.invalid(field + " is required");
    }
    return value;
  }

  static UUID actor(JsonObject request, String field) {
    try {
      return UUID.fromString(required(request, field));
    } catch (IllegalArgumentException e) {
      throw ParleyException.invalid(field + " is not a valid id");
    }
  }

  static UUID id(JsonObject request, String field, String what) {
    return parse(request.getString(field), what);
  }

  static UUID parse(String value, String what) {
    try {
      if (value != null) {
        return UUID.fromString(value);
      }
    } catch (IllegalArgumentException ignored) {
      // falls through to NOT_FOUND
    }
    throw ParleyException.notFound(what + " not found");
  }
}
