package dev.keel.models.http;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParseException;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import dev.keel.model.ModelException;
import java.util.List;
import java.util.Optional;

/**
 * Reading provider JSON: parsing within limits meant for untrusted input and lenient accessors that
 * treat an absent or mistyped optional field as absent, so new provider fields never break a read.
 */
public final class Wire {

  /** Bounds for provider answers: deep enough for any schema, no NUL, at most 32 MiB strings. */
  public static final JsonLimits PROVIDER_LIMITS =
      new JsonLimits(128, 32 << 20, 100, 1_000_000, false);

  private Wire() {}

  /**
   * Parses {@code text} as a JSON object sent by {@code provider}.
   *
   * @throws ModelException of kind {@code MALFORMED_RESPONSE} naming the provider and where the
   *     text broke
   */
  public static JsonObject parseObject(String provider, String what, String text) {
    try {
      if (JsonParser.parse(text, PROVIDER_LIMITS) instanceof JsonObject o) {
        return o;
      }
      throw malformed(provider, what + " is not a JSON object: " + excerpt(text), null);
    } catch (JsonParseException e) {
      throw malformed(provider, what + " is not valid JSON (" + e.getMessage() + ")", e);
    }
  }

  /** A {@code MALFORMED_RESPONSE} failure of {@code provider}. */
  public static ModelException malformed(
      String provider, String message, @org.jspecify.annotations.Nullable Throwable cause) {
    return new ModelException(
        ModelException.Kind.MALFORMED_RESPONSE, provider + ": " + message, Optional.empty(), cause);
  }

  /** The object member {@code key}, if it is an object. */
  public static Optional<JsonObject> obj(JsonObject o, String key) {
    return o.get(key).filter(JsonObject.class::isInstance).map(JsonObject.class::cast);
  }

  /** The items of array member {@code key}; empty when absent or not an array. */
  public static List<JsonValue> arr(JsonObject o, String key) {
    return o.get(key)
        .filter(JsonArray.class::isInstance)
        .map(v -> ((JsonArray) v).items())
        .orElse(List.of());
  }

  /** The objects among the items of array member {@code key}. */
  public static List<JsonObject> objects(JsonObject o, String key) {
    return arr(o, key).stream()
        .filter(JsonObject.class::isInstance)
        .map(JsonObject.class::cast)
        .toList();
  }

  /** The string member {@code key}, if it is a string. */
  public static Optional<String> str(JsonObject o, String key) {
    return o.get(key).filter(JsonString.class::isInstance).map(v -> ((JsonString) v).value());
  }

  /** The string member {@code key}, or {@code fallback}. */
  public static String str(JsonObject o, String key, String fallback) {
    return str(o, key).orElse(fallback);
  }

  /** The integral number member {@code key}; 0 when absent, mistyped or negative. */
  public static long num(JsonObject o, String key) {
    return o.get(key)
        .filter(JsonNumber.class::isInstance)
        .map(v -> Math.max(0, ((JsonNumber) v).value().longValue()))
        .orElse(0L);
  }

  /** The integral number member {@code key}, if present. */
  public static Optional<Long> optNum(JsonObject o, String key) {
    return o.get(key)
        .filter(JsonNumber.class::isInstance)
        .map(v -> ((JsonNumber) v).value().longValue());
  }

  /** The first 200 characters of {@code text}, for error messages. */
  public static String excerpt(String text) {
    String flat = text.replace('\n', ' ').replace('\r', ' ');
    return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
  }
}
