package dev.keel.json;

import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict RFC 8259 parser with limits. Rejects duplicate keys, lone surrogates, trailing text, and
 * (unless allowed) NUL characters; every error names the line, column and JSON pointer.
 *
 * <p>Implementation notes: recursive descent, bounded by {@link JsonLimits#maxDepth()} so a deeply
 * nested document fails with a clear error long before the stack is at risk.
 */
public final class JsonParser {
  private final String text;
  private final JsonLimits limits;
  private final Deque<String> path = new ArrayDeque<>();
  private int pos;
  private int depth;

  private JsonParser(String text, JsonLimits limits) {
    this.text = text;
    this.limits = limits;
  }

  /** Parses trusted text (Keel's own stored JSON). */
  public static JsonValue parse(String text) {
    return parse(text, JsonLimits.TRUSTED);
  }

  /** Parses {@code text} within {@code limits}. */
  public static JsonValue parse(String text, JsonLimits limits) {
    JsonParser p = new JsonParser(text, limits);
    p.skipWhitespace();
    JsonValue value = p.readValue();
    p.skipWhitespace();
    if (p.pos != text.length()) {
      throw p.error("unexpected text after the JSON value", false);
    }
    return value;
  }

  /** Parses text that must be a JSON object. */
  public static JsonObject parseObject(String text, JsonLimits limits) {
    JsonValue v = parse(text, limits);
    if (v instanceof JsonObject o) {
      return o;
    }
    throw new JsonParseException("expected a JSON object", "", 1, 1, false);
  }

  private JsonValue readValue() {
    if (pos >= text.length()) {
      throw error("unexpected end of input", false);
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> readObject();
      case '[' -> readArray();
      case '"' -> new JsonString(readString());
      case 't' -> literal("true", JsonValue.TRUE);
      case 'f' -> literal("false", JsonValue.FALSE);
      case 'n' -> literal("null", JsonValue.NULL);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield readNumber();
        }
        throw error("unexpected character '" + printable(c) + "'", false);
      }
    };
  }

  private JsonValue literal(String word, JsonValue value) {
    if (!text.startsWith(word, pos)) {
      throw error("invalid literal, expected " + word, false);
    }
    pos += word.length();
    return value;
  }

  private JsonObject readObject() {
    enter();
    pos++;
    Map<String, JsonValue> members = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      depth--;
      return new JsonObject(members);
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw error("expected a string key", false);
      }
      String key = readString();
      if (members.containsKey(key)) {
        path.push(key);
        throw error("duplicate key '" + key + "'", false);
      }
      skipWhitespace();
      expect(':');
      skipWhitespace();
      path.push(key);
      members.put(key, readValue());
      path.pop();
      if (members.size() > limits.maxMembers()) {
        throw error("object has more than " + limits.maxMembers() + " members", true);
      }
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == '}') {
        depth--;
        return new JsonObject(members);
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or '}'", false);
      }
    }
  }

  private JsonArray readArray() {
    enter();
    pos++;
    List<JsonValue> items = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      depth--;
      return new JsonArray(items);
    }
    while (true) {
      skipWhitespace();
      path.push(Integer.toString(items.size()));
      items.add(readValue());
      path.pop();
      if (items.size() > limits.maxMembers()) {
        throw error("array has more than " + limits.maxMembers() + " items", true);
      }
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == ']') {
        depth--;
        return new JsonArray(items);
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or ']'", false);
      }
    }
  }

  private void enter() {
    if (++depth > limits.maxDepth()) {
      throw error("nesting deeper than " + limits.maxDepth(), true);
    }
  }

  private String readString() {
    pos++;
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string", false);
      }
      char c = text.charAt(pos++);
      if (c == '"') {
        break;
      }
      if (c == '\\') {
        c = escape();
      } else if (c < 0x20) {
        pos--;
        throw error("control character in string", false);
      }
      if (Character.isHighSurrogate(c)) {
        char low = pos < text.length() && text.charAt(pos) == '\\' ? lowAfterEscape() : nextRaw();
        if (!Character.isLowSurrogate(low)) {
          throw error("lone surrogate in string", false);
        }
        out.append(c).append(low);
      } else if (Character.isLowSurrogate(c)) {
        throw error("lone surrogate in string", false);
      } else {
        if (c == 0 && !limits.allowNul()) {
          throw error("NUL character in string", false);
        }
        out.append(c);
      }
      if (out.length() > limits.maxStringLength()) {
        throw error("string longer than " + limits.maxStringLength() + " characters", true);
      }
    }
    return out.toString();
  }

  private char nextRaw() {
    return pos < text.length() ? text.charAt(pos++) : 0;
  }

  private char lowAfterEscape() {
    pos++;
    return escape();
  }

  private char escape() {
    if (pos >= text.length()) {
      throw error("unterminated escape", false);
    }
    char e = text.charAt(pos++);
    return switch (e) {
      case '"' -> '"';
      case '\\' -> '\\';
      case '/' -> '/';
      case 'b' -> '\b';
      case 'f' -> '\f';
      case 'n' -> '\n';
      case 'r' -> '\r';
      case 't' -> '\t';
      case 'u' -> {
        if (pos + 4 > text.length()) {
          throw error("truncated \\u escape", false);
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
          int d = Character.digit(text.charAt(pos++), 16);
          if (d < 0) {
            throw error("invalid \\u escape", false);
          }
          v = v * 16 + d;
        }
        yield (char) v;
      }
      default -> throw error("invalid escape '\\" + printable(e) + "'", false);
    };
  }

  private JsonNumber readNumber() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      digits();
    } else {
      throw error("invalid number", false);
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw error("invalid number: digits expected after '.'", false);
      }
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw error("invalid number: digits expected in exponent", false);
      }
      digits();
    }
    if (pos - start > limits.maxNumberLength()) {
      throw error("number longer than " + limits.maxNumberLength() + " characters", true);
    }
    BigDecimal value = new BigDecimal(text.substring(start, pos));
    if (Math.abs((long) value.scale()) > 10_000) {
      throw error("number exponent out of range", true);
    }
    return new JsonNumber(value);
  }

  private void digits() {
    while (isDigit(peek())) {
      pos++;
      if (pos - 1 > text.length()) {
        return;
      }
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'", false);
    }
    pos++;
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        pos++;
      } else {
        return;
      }
    }
  }

  private JsonParseException error(String message, boolean limit) {
    int line = 1;
    int col = 1;
    for (int i = 0; i < Math.min(pos, text.length()); i++) {
      if (text.charAt(i) == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    StringBuilder pointer = new StringBuilder();
    var it = path.descendingIterator();
    while (it.hasNext()) {
      pointer.append('/').append(it.next().replace("~", "~0").replace("/", "~1"));
    }
    return new JsonParseException(message, pointer.toString(), line, col, limit);
  }

  private static String printable(char c) {
    return c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }
}
