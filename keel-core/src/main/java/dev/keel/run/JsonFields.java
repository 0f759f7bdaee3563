package dev.keel.run;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonBool;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Typed reads of a stored JSON object; a missing or mistyped field names itself and its place. */
final class JsonFields {
  private final JsonObject o;
  private final String where;

  JsonFields(JsonObject o, String where) {
    this.o = o;
    this.where = where;
  }

  static JsonFields of(JsonValue v, String where) {
    if (v instanceof JsonObject o) {
      return new JsonFields(o, where);
    }
    throw new IllegalArgumentException(where + ": expected an object");
  }

  private JsonValue req(String key) {
    return o.get(key)
        .filter(v -> !(v instanceof JsonValue.JsonNull))
        .orElseThrow(() -> new IllegalArgumentException(where + ": missing field '" + key + "'"));
  }

  private IllegalArgumentException wrong(String key, String type) {
    return new IllegalArgumentException(where + ": field '" + key + "' must be " + type);
  }

  String str(String key) {
    return req(key) instanceof JsonString s ? s.value() : fail(key, "a string");
  }

  String str(String key, String fallback) {
    return opt(key)
        .map(v -> v instanceof JsonString s ? s.value() : fail(key, "a string"))
        .orElse(fallback);
  }

  Optional<String> optStr(String key) {
    return opt(key).map(v -> v instanceof JsonString s ? s.value() : fail(key, "a string"));
  }

  long num(String key) {
    if (req(key) instanceof JsonNumber n) {
      try {
        return n.longValueExact();
      } catch (ArithmeticException e) {
        throw wrong(key, "a whole number");
      }
    }
    throw wrong(key, "a number");
  }

  long num(String key, long fallback) {
    return opt(key).isPresent() ? num(key) : fallback;
  }

  int integer(String key) {
    return Math.toIntExact(num(key));
  }

  boolean bool(String key) {
    return req(key) instanceof JsonBool b ? b.value() : fail(key, "a boolean");
  }

  Instant instant(String key) {
    try {
      return Instant.parse(str(key));
    } catch (java.time.format.DateTimeParseException e) {
      throw wrong(key, "an RFC 3339 timestamp");
    }
  }

  JsonObject obj(String key) {
    return req(key) instanceof JsonObject v ? v : fail(key, "an object");
  }

  JsonObject obj(String key, JsonObject fallback) {
    return opt(key)
        .map(v -> v instanceof JsonObject x ? x : this.<JsonObject>fail(key, "an object"))
        .orElse(fallback);
  }

  Optional<JsonObject> optObj(String key) {
    return opt(key).map(v -> v instanceof JsonObject x ? x : fail(key, "an object"));
  }

  JsonValue value(String key) {
    return o.get(key).orElse(JsonValue.NULL);
  }

  List<JsonValue> array(String key) {
    return opt(key)
        .map(
            v -> v instanceof JsonArray a ? a.items() : this.<List<JsonValue>>fail(key, "an array"))
        .orElse(List.of());
  }

  Optional<JsonValue> opt(String key) {
    return o.get(key).filter(v -> !(v instanceof JsonValue.JsonNull));
  }

  JsonFields sub(String key) {
    return new JsonFields(obj(key), where + "." + key);
  }

  private <T> T fail(String key, String type) {
    throw wrong(key, type);
  }
}
