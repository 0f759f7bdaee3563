package dev.keel.agent;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks an answer's data against an agent's output schema. The core has no JSON Schema library, so
 * the application wires a full validator; {@link #BASIC} checks only {@code type}, {@code required}
 * and the {@code type} of each declared property, and is what an engine without one uses.
 */
@FunctionalInterface
public interface OutputContract {

  /**
   * Each violation of {@code schema} by {@code data}, as {@code /pointer: message}; empty if valid.
   */
  List<String> violations(JsonObject schema, JsonValue data);

  /** The subset check: {@code type}, {@code required}, and each property's {@code type}. */
  OutputContract BASIC =
      (schema, data) -> {
        List<String> out = new ArrayList<>();
        basic(schema, data, "", out);
        return out;
      };

  private static void basic(JsonObject schema, JsonValue data, String at, List<String> out) {
    String type = schema.string("type").orElse("");
    if (!type.isEmpty() && !typeOf(data).equals(type)) {
      if (!(type.equals("number") && typeOf(data).equals("integer"))) {
        out.add((at.isEmpty() ? "/" : at) + ": must be " + type + ", is " + typeOf(data));
        return;
      }
    }
    if (data instanceof JsonObject o) {
      if (schema.get("required").orElse(null) instanceof JsonValue.JsonArray req) {
        for (JsonValue r : req.items()) {
          if (r instanceof JsonValue.JsonString k && o.get(k.value()).isEmpty()) {
            out.add(at + "/" + k.value() + ": required");
          }
        }
      }
      if (schema.get("properties").orElse(null) instanceof JsonObject props) {
        for (var p : props.members().entrySet()) {
          if (p.getValue() instanceof JsonObject sub && o.get(p.getKey()).isPresent()) {
            basic(sub, o.get(p.getKey()).get(), at + "/" + p.getKey(), out);
          }
        }
      }
    }
  }

  private static String typeOf(JsonValue v) {
    return switch (v) {
      case JsonObject o -> "object";
      case JsonValue.JsonArray a -> "array";
      case JsonValue.JsonString s -> "string";
      case JsonValue.JsonNumber n ->
          n.value().stripTrailingZeros().scale() <= 0 ? "integer" : "number";
      case JsonValue.JsonBool b -> "boolean";
      case JsonValue.JsonNull n -> "null";
    };
  }
}
