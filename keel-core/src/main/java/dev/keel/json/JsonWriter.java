package dev.keel.json;

import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonBool;
import dev.keel.json.JsonValue.JsonNull;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Writes JSON text. The canonical form sorts object keys, so equal values give equal bytes. */
public final class JsonWriter {
  private JsonWriter() {}

  /** Returns the canonical text of {@code value}: sorted keys, no white space. */
  public static String canonical(JsonValue value) {
    StringBuilder out = new StringBuilder(64);
    write(value, out);
    return out.toString();
  }

  private static void write(JsonValue value, StringBuilder out) {
    switch (value) {
      case JsonObject o -> {
        out.append('{');
        List<Map.Entry<String, JsonValue>> entries = new ArrayList<>(o.members().entrySet());
        entries.sort(Map.Entry.comparingByKey());
        boolean first = true;
        for (Map.Entry<String, JsonValue> e : entries) {
          if (!first) {
            out.append(',');
          }
          first = false;
          quote(e.getKey(), out);
          out.append(':');
          write(e.getValue(), out);
        }
        out.append('}');
      }
      case JsonArray a -> {
        out.append('[');
        for (int i = 0; i < a.items().size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          write(a.items().get(i), out);
        }
        out.append(']');
      }
      case JsonString s -> quote(s.value(), out);
      case JsonNumber n -> out.append(plain(n.value()));
      case JsonBool b -> out.append(b.value());
      case JsonNull ignored -> out.append("null");
    }
  }

  private static String plain(BigDecimal value) {
    BigDecimal stripped = value.stripTrailingZeros();
    return stripped.scale() < 0
        ? stripped.toBigIntegerExact().toString()
        : stripped.toPlainString();
  }

  /** Appends {@code s} as a quoted JSON string with the required escapes. */
  public static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
