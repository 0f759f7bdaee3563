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
        Map<String, JsonValue> members = o.members();
        Iterable<Map.Entry<String, JsonValue>> entries = members.entrySet();
        if (!keysSorted(members)) {
          List<Map.Entry<String, JsonValue>> sorted = new ArrayList<>(members.entrySet());
          sorted.sort(Map.Entry.comparingByKey());
          entries = sorted;
        }
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

  /** Whether the keys already come in canonical order, so the entries need no sorted copy. */
  private static boolean keysSorted(Map<String, JsonValue> members) {
    String previous = null;
    for (String key : members.keySet()) {
      if (previous != null && previous.compareTo(key) > 0) {
        return false;
      }
      previous = key;
    }
    return true;
  }

  private static String plain(BigDecimal value) {
    if (value.scale() == 0) {
      return value.toString(); // an integer: no exponent, nothing to strip
    }
    BigDecimal stripped = value.stripTrailingZeros();
    return stripped.scale() < 0
        ? stripped.toBigIntegerExact().toString()
        : stripped.toPlainString();
  }

  /** Appends {@code s} as a quoted JSON string with the required escapes. */
  public static void quote(String s, StringBuilder out) {
    out.append('"');
    int plainFrom = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\' && c != 0x2028 && c != 0x2029) {
        continue; // copied in one piece with the rest of its run
      }
      out.append(s, plainFrom, i);
      plainFrom = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> out.append(String.format("\\u%04x", (int) c));
      }
    }
    out.append(s, plainFrom, s.length());
    out.append('"');
  }
}
