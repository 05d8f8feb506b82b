package dev.parley.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.function.Function;

/** Small conversions shared by the message contracts. Timestamps travel as ISO-8601 strings in UTC. */
public final class Json {

  private Json() {
  }

  public static String time(OffsetDateTime time) {
    return time == null ? null : time.format(DateTimeFormatter.ISO_INSTANT);
  }

  public static <T> JsonArray array(List<T> items, Function<T, JsonObject> toJson) {
    JsonArray array = new JsonArray();
    items.forEach(item -> array.add(toJson.apply(item)));
    return array;
  }

  public static <T> List<T> list(JsonArray array, Function<JsonObject, T> fromJson) {
    return array == null ? List.of() : array.stream().map(o -> fromJson.apply((JsonObject) o)).toList();
  }
}
