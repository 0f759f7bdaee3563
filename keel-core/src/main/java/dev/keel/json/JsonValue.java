package dev.keel.json;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable JSON value. The closed set of cases lets codecs switch without a default branch.
 *
 * <p>{@link #toString()} renders the canonical form: object keys sorted, no insignificant white
 * space, numbers in their plain decimal form. Hashes over JSON are always taken of that form.
 */
public sealed interface JsonValue
    permits JsonValue.JsonObject,
        JsonValue.JsonArray,
        JsonValue.JsonString,
        JsonValue.JsonNumber,
        JsonValue.JsonBool,
        JsonValue.JsonNull {

  /** The JSON {@code null}. */
  JsonNull NULL = new JsonNull();

  /** The JSON {@code true}. */
  JsonBool TRUE = new JsonBool(true);

  /** The JSON {@code false}. */
  JsonBool FALSE = new JsonBool(false);

  /** An empty object. */
  JsonObject EMPTY_OBJECT = new JsonObject(Map.of());

  /** Returns a JSON string. */
  static JsonString of(String value) {
    return new JsonString(value);
  }

  /** Returns a JSON number. */
  static JsonNumber of(long value) {
    return new JsonNumber(BigDecimal.valueOf(value));
  }

  /** Returns a JSON boolean. */
  static JsonBool of(boolean value) {
    return value ? TRUE : FALSE;
  }

  /** Builds an object from alternating keys and values (strings, numbers, booleans or values). */
  static JsonObject object(Object... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("object(...) needs key/value pairs, got an odd count");
    }
    Map<String, JsonValue> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], from(keysAndValues[i + 1]));
    }
    return new JsonObject(map);
  }

  /** Converts a plain Java value (string, number, boolean, list, map, null or value) to JSON. */
  static JsonValue from(Object value) {
    return switch (value) {
      case null -> NULL;
      case JsonValue v -> v;
      case String s -> new JsonString(s);
      case Boolean b -> of(b);
      case Integer n -> of(n.longValue());
      case Long n -> of(n);
      case BigDecimal n -> new JsonNumber(n);
      case Double d -> new JsonNumber(BigDecimal.valueOf(d));
      case List<?> list -> new JsonArray(list.stream().map(JsonValue::from).toList());
      case Map<?, ?> map -> {
        Map<String, JsonValue> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(String.valueOf(k), from(v)));
        yield new JsonObject(out);
      }
      default ->
          throw new IllegalArgumentException(
              "cannot convert " + value.getClass().getName() + " to JSON");
    };
  }

  /** A JSON object. Keeps insertion order for display; the canonical form sorts keys. */
  record JsonObject(Map<String, JsonValue> members) implements JsonValue {
    /** Copies the members, keeping their order. */
    public JsonObject {
      Objects.requireNonNull(members, "members");
      members = Collections.unmodifiableMap(new LinkedHashMap<>(members));
    }

    /** Returns the member named {@code key}, if present. */
    public Optional<JsonValue> get(String key) {
      return Optional.ofNullable(members.get(key));
    }

    /** Returns a string member, if present and a string. */
    public Optional<String> string(String key) {
      return get(key).filter(JsonString.class::isInstance).map(v -> ((JsonString) v).value());
    }

    /** Returns a copy with {@code key} set to {@code value}. */
    public JsonObject with(String key, JsonValue value) {
      Map<String, JsonValue> copy = new LinkedHashMap<>(members);
      copy.put(key, value);
      return new JsonObject(copy);
    }

    @Override
    public String toString() {
      return JsonWriter.canonical(this);
    }
  }

  /** A JSON array. */
  record JsonArray(List<JsonValue> items) implements JsonValue {
    /** Copies the items. */
    public JsonArray {
      items = List.copyOf(items);
    }

    /** Builds an array of the given values. */
    public static JsonArray of(JsonValue... values) {
      return new JsonArray(List.of(values));
    }

    /** Returns a copy with {@code value} appended. */
    public JsonArray plus(JsonValue value) {
      List<JsonValue> copy = new ArrayList<>(items);
      copy.add(value);
      return new JsonArray(copy);
    }

    @Override
    public String toString() {
      return JsonWriter.canonical(this);
    }
  }

  /** A JSON string. */
  record JsonString(String value) implements JsonValue {
    /** Checks the value is present. */
    public JsonString {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
      return JsonWriter.canonical(this);
    }
  }

  /** A JSON number, kept exactly as a decimal. */
  record JsonNumber(BigDecimal value) implements JsonValue {
    /** Checks the value is present. */
    public JsonNumber {
      Objects.requireNonNull(value, "value");
    }

    /** Returns the value as a long, failing if it has a fraction or is out of range. */
    public long longValueExact() {
      return value.longValueExact();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof JsonNumber n && n.value.compareTo(value) == 0;
    }

    @Override
    public int hashCode() {
      return value.stripTrailingZeros().hashCode();
    }

    @Override
    public String toString() {
      return JsonWriter.canonical(this);
    }
  }

  /** A JSON boolean. */
  record JsonBool(boolean value) implements JsonValue {
    @Override
    public String toString() {
      return Boolean.toString(value);
    }
  }

  /** The JSON null. */
  record JsonNull() implements JsonValue {
    @Override
    public String toString() {
      return "null";
    }
  }
}
