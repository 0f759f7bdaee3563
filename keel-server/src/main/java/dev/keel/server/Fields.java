package dev.keel.server;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonNull;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Typed reads of a request object that collect every problem with its JSON pointer, so one answer
 * names all of them. Unknown members are errors: a misspelt field must not be silently ignored.
 */
final class Fields {
  private final JsonObject object;
  private final String pointer;
  private final List<ApiException.FieldError> errors;

  private Fields(JsonObject object, String pointer, List<ApiException.FieldError> errors) {
    this.object = object;
    this.pointer = pointer;
    this.errors = errors;
  }

  /** Reads the top-level body, which may only have the members in {@code allowed}. */
  static Fields of(JsonObject body, Set<String> allowed) {
    Fields f = new Fields(body, "", new ArrayList<>());
    f.only(allowed);
    return f;
  }

  /** Fails with every collected error, if any. */
  void check() {
    if (!errors.isEmpty()) {
      throw ApiException.invalid(errors);
    }
  }

  private void only(Set<String> allowed) {
    for (String key : object.members().keySet()) {
      if (!allowed.contains(key)) {
        errors.add(
            new ApiException.FieldError(
                at(key), "unknown field; allowed here: " + String.join(", ", sorted(allowed))));
      }
    }
  }

  private static List<String> sorted(Set<String> s) {
    List<String> l = new ArrayList<>(s);
    l.sort(null);
    return l;
  }

  String at(String key) {
    return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
  }

  private Optional<JsonValue> present(String key) {
    return object.get(key).filter(v -> !(v instanceof JsonNull));
  }

  void error(String key, String message) {
    errors.add(new ApiException.FieldError(at(key), message));
  }

  /** An optional string of at most {@code maxLength} characters. */
  Optional<String> string(String key, int maxLength) {
    Optional<JsonValue> v = present(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (!(v.get() instanceof JsonString s)) {
      error(key, "must be a string");
      return Optional.empty();
    }
    if (s.value().length() > maxLength) {
      error(key, "must be at most " + maxLength + " characters");
      return Optional.empty();
    }
    return Optional.of(s.value());
  }

  /** A required non-blank string. */
  String requiredString(String key, int maxLength) {
    if (present(key).isEmpty()) {
      error(key, "is required");
      return "";
    }
    Optional<String> s = string(key, maxLength);
    if (s.isPresent() && s.get().isBlank()) {
      error(key, "must not be blank");
    }
    return s.orElse("");
  }

  /** An optional object. */
  Optional<JsonObject> object(String key) {
    Optional<JsonValue> v = present(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.get() instanceof JsonObject o) {
      return Optional.of(o);
    }
    error(key, "must be an object");
    return Optional.empty();
  }

  /** An optional array. */
  Optional<JsonArray> array(String key) {
    Optional<JsonValue> v = present(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.get() instanceof JsonArray a) {
      return Optional.of(a);
    }
    error(key, "must be an array");
    return Optional.empty();
  }

  /** A nested object reader with its own allowed members. */
  Optional<Fields> nested(String key, Set<String> allowed) {
    return object(key)
        .map(
            o -> {
              Fields f = new Fields(o, at(key), errors);
              f.only(allowed);
              return f;
            });
  }

  /** An optional integer in {@code [min, max]}. */
  Optional<Long> integer(String key, long min, long max) {
    Optional<BigDecimal> n = number(key);
    if (n.isEmpty()) {
      return Optional.empty();
    }
    BigDecimal d = n.get();
    if (d.stripTrailingZeros().scale() > 0) {
      error(key, "must be a whole number");
      return Optional.empty();
    }
    if (d.compareTo(BigDecimal.valueOf(min)) < 0 || d.compareTo(BigDecimal.valueOf(max)) > 0) {
      error(key, "must be between " + min + " and " + max);
      return Optional.empty();
    }
    return Optional.of(d.longValueExact());
  }

  /** An optional number in {@code [min, max]}. */
  Optional<BigDecimal> decimal(String key, BigDecimal min, BigDecimal max) {
    Optional<BigDecimal> n = number(key);
    if (n.isPresent() && (n.get().compareTo(min) < 0 || n.get().compareTo(max) > 0)) {
      error(key, "must be between " + min.toPlainString() + " and " + max.toPlainString());
      return Optional.empty();
    }
    return n;
  }

  private Optional<BigDecimal> number(String key) {
    Optional<JsonValue> v = present(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.get() instanceof JsonNumber n) {
      return Optional.of(n.value());
    }
    error(key, "must be a number");
    return Optional.empty();
  }
}
