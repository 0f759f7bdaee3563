package dev.keel.tools;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.regex.Pattern;

/**
 * Removes secrets from arguments and results before they are audited or logged: every known secret
 * value (at least 6 characters), members whose names say they hold a secret, and common key shapes
 * (AWS, GitHub, Slack, OpenAI-style {@code sk-}, JWTs, PEM blocks, bearer tokens, {@code ?key=}).
 */
public final class Redactor {
  /** What replaces a secret. */
  public static final String MASK = "[REDACTED]";

  private static final Pattern SENSITIVE_NAME =
      Pattern.compile(
          "(?i).*(password|passwd|secret|token|api[_-]?key|authorization|cookie|private[_-]?key"
              + "|credential).*");
  private static final List<Pattern> SHAPES =
      List.of(
          Pattern.compile("AKIA[0-9A-Z]{16}"),
          Pattern.compile("(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),
          Pattern.compile("github_pat_[A-Za-z0-9_]{20,}"),
          Pattern.compile("xox[abprs]-[A-Za-z0-9-]{10,}"),
          Pattern.compile("sk-(ant-)?[A-Za-z0-9_-]{16,}"),
          Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}"),
          Pattern.compile(
              "-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
          Pattern.compile("(?i)bearer\\s+[A-Za-z0-9._~+/=-]{8,}"));
  private static final Pattern QUERY_KEY =
      Pattern.compile("(?i)([?&](api_key|apikey|key|token|access_token|sig)=)[^&\\s\"]+");

  private final Set<String> secrets = new CopyOnWriteArraySet<>();

  /** Creates a redactor that also masks {@code knownSecrets}. */
  public Redactor(Collection<String> knownSecrets) {
    knownSecrets.forEach(this::addSecret);
  }

  /** Adds a secret value to mask from now on; values shorter than 6 characters are refused. */
  public void addSecret(String value) {
    if (value.length() < 6) {
      throw new IllegalArgumentException(
          "secret values shorter than 6 characters cannot be masked safely (length "
              + value.length()
              + ")");
    }
    secrets.add(value);
  }

  /** Returns {@code text} with every secret masked. */
  public String redact(String text) {
    String out = text;
    for (String s : secrets) {
      out = out.replace(s, MASK);
    }
    for (Pattern p : SHAPES) {
      out = p.matcher(out).replaceAll(MASK);
    }
    return QUERY_KEY.matcher(out).replaceAll("$1" + MASK);
  }

  /** Returns {@code text} with known secrets and key shapes masked; same as {@link #redact}. */
  public String redactValues(String text) {
    return redact(text);
  }

  /**
   * Returns {@code value} with known secrets and key shapes masked in strings, leaving members
   * alone whatever their names; for data the model needs, such as a {@code token_count}.
   */
  public JsonValue redactValues(JsonValue value) {
    return switch (value) {
      case JsonObject o -> {
        Map<String, JsonValue> out = new LinkedHashMap<>();
        o.members().forEach((k, v) -> out.put(k, redactValues(v)));
        yield new JsonObject(out);
      }
      case JsonArray a -> new JsonArray(a.items().stream().map(this::redactValues).toList());
      case JsonString s -> JsonValue.of(redact(s.value()));
      case JsonValue.JsonNumber n -> n;
      case JsonValue.JsonBool b -> b;
      case JsonValue.JsonNull n -> n;
    };
  }

  /** Returns {@code value} with every secret masked, member names checked as well. */
  public JsonValue redact(JsonValue value) {
    return switch (value) {
      case JsonObject o -> {
        Map<String, JsonValue> out = new LinkedHashMap<>();
        o.members()
            .forEach(
                (k, v) ->
                    out.put(
                        k,
                        SENSITIVE_NAME.matcher(k).matches() && !(v instanceof JsonValue.JsonNull)
                            ? JsonValue.of(MASK)
                            : redact(v)));
        yield new JsonObject(out);
      }
      case JsonArray a -> new JsonArray(a.items().stream().map(this::redact).toList());
      case JsonString s -> JsonValue.of(redact(s.value()));
      case JsonValue.JsonNumber n -> n;
      case JsonValue.JsonBool b -> b;
      case JsonValue.JsonNull n -> n;
    };
  }
}
