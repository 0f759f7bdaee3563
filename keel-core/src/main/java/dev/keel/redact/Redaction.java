package dev.keel.redact;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks secrets in real formats (provider API keys, tokens, JWTs, private key blocks, passwords in
 * URLs and connection strings, secret-looking assignments), exact known secret values, and, when
 * configured, personal data (emails, card numbers passing the Luhn check, phone numbers, custom
 * patterns). Thread-safe; one instance is shared by events, logs, traces and error responses.
 *
 * <p>Every rule masks either the whole match or one named group {@code v} inside it, so a {@code
 * password=...} keeps its name and loses its value. Rules are applied in order on the output of the
 * previous rule; the mask itself matches no rule.
 */
public final class Redaction {
  /** What replaces a secret. */
  public static final String MASK = "[REDACTED]";

  /** What replaces personal data. */
  public static final String PII_MASK = "[PII]";

  /**
   * One masking rule.
   *
   * @param name what the rule finds, for tests and diagnostics
   * @param pattern the shape; a group named {@code v} is masked instead of the whole match
   * @param accept a further check on the masked text (entropy, Luhn), true to mask
   * @param mask what replaces the text
   */
  public record Rule(String name, Pattern pattern, Predicate<String> accept, String mask) {
    /** Checks the parts. */
    public Rule {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(pattern, "pattern");
      Objects.requireNonNull(accept, "accept");
      Objects.requireNonNull(mask, "mask");
    }

    static Rule of(String name, String regex) {
      return new Rule(name, Pattern.compile(regex), s -> true, MASK);
    }

    static Rule of(String name, String regex, Predicate<String> accept) {
      return new Rule(name, Pattern.compile(regex), accept, MASK);
    }
  }

  private static final String SECRET_WORDS =
      "api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|passphrase|credentials?|auth[_-]?token|"
          + "access[_-]?key|private[_-]?key|client[_-]?secret|signature";

  /** Member names whose values are secrets whatever they look like. */
  private static final Pattern SENSITIVE_NAME =
      Pattern.compile(
          "(?i).*(password|passwd|passphrase|secret|token|api[_-]?key|apikey|authorization|cookie"
              + "|private[_-]?key|credential|access[_-]?key).*");

  /** Names that contain a sensitive word but carry counts or metadata, not secrets. */
  private static final Pattern BENIGN_NAME =
      Pattern.compile(
          "(?i).*(tokens|token_count|token_type|_count|count_|max_tokens|tokenizer|tokens_used"
              + "|expires_in|expires_at|_ref|_id|_hint|_url|_header|_name|type|secret_handle).*");

  /** The secret rules, applied by every instance. */
  static final List<Rule> SECRET_RULES =
      List.of(
          Rule.of(
              "private key block",
              "-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?"
                  + "(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)"),
          Rule.of("anthropic key", "sk-ant-[A-Za-z0-9]{3,10}-[A-Za-z0-9_-]{20,}"),
          Rule.of("openai key", "\\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
          Rule.of(
              "aws access key id",
              "\\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[0-9A-Z]{16}\\b"),
          Rule.of("github token", "\\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\\b"),
          Rule.of("github fine-grained token", "\\bgithub_pat_[A-Za-z0-9_]{40,}"),
          Rule.of("gitlab token", "\\bglpat-[A-Za-z0-9_-]{20,}"),
          Rule.of("slack token", "\\bxox[abposre]-[A-Za-z0-9-]{10,}"),
          Rule.of(
              "slack webhook",
              "https://hooks\\.slack\\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
          Rule.of("stripe key", "\\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
          Rule.of("stripe webhook secret", "\\bwhsec_[A-Za-z0-9+/=]{24,}"),
          Rule.of("google api key", "\\bAIza[0-9A-Za-z_-]{35}"),
          Rule.of("google oauth token", "\\bya29\\.[0-9A-Za-z_-]{20,}"),
          Rule.of("google client secret", "\\bGOCSPX-[A-Za-z0-9_-]{20,}"),
          Rule.of("huggingface token", "\\bhf_[A-Za-z0-9]{30,}"),
          Rule.of("npm token", "\\bnpm_[A-Za-z0-9]{36}"),
          Rule.of(
              "jwt",
              "\\beyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}(?![A-Za-z0-9_.-])"),
          Rule.of("bearer token", "(?i)\\bbearer\\s+(?<v>[A-Za-z0-9._~+/-]{12,}=*)"),
          Rule.of(
              "authorization header",
              "(?i)\\b(?:proxy-)?authorization\"?\\s*[:=]\\s*\"?(?:basic|digest|token|apikey)?\\s*"
                  + "(?<v>[A-Za-z0-9._~+/-]{8,}=*)"),
          Rule.of(
              "password in url", "\\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\\s\"']+:(?<v>[^@\\s/\"']+)@"),
          Rule.of(
              "password in connection string",
              "(?i)(?<![A-Za-z0-9_])(?:password|pwd|passwd)\\s*=\\s*(?<v>[^;\\s\"'&]+)",
              Redaction::notCode),
          Rule.of(
              "secret query parameter",
              "(?i)[?&](?:api_key|apikey|key|token|access_token|refresh_token|id_token|secret"
                  + "|client_secret|sig|signature|password|x-amz-signature|x-goog-signature)="
                  + "(?<v>[^&\\s\"'#]+)"),
          Rule.of(
              "secret assignment",
              "(?i)(?<![A-Za-z0-9])[A-Za-z0-9_.-]*(?:"
                  + SECRET_WORDS
                  + ")[A-Za-z0-9_.-]*\"?'?\\s*(?::|=|=>|:=)\\s*[\"']?"
                  + "(?<v>[A-Za-z0-9+/=_\\-.~!@#$%^*]{8,})(?=$|[\\s\"',;&})\\]])",
              Redaction::looksSecret));

  private static final List<Rule> PII_RULES =
      List.of(
          new Rule(
              "email",
              Pattern.compile(
                  "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}\\b"),
              s -> true,
              PII_MASK),
          new Rule(
              "card number",
              Pattern.compile("(?<![0-9A-Za-z_-])(?:\\d[ -]?){12,18}\\d(?![0-9A-Za-z_-])"),
              Redaction::luhn,
              PII_MASK),
          new Rule(
              "phone number",
              Pattern.compile(
                  "(?<![0-9A-Za-z_+-])(?:\\+\\d{1,3}[ .-]?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}"
                      + "(?:[ .-]\\d{2,4}){1,4}|\\(\\d{3}\\)\\s?\\d{3}[ .-]\\d{4}"
                      + "|\\d{3}[.-]\\d{3}[.-]\\d{4})(?![0-9A-Za-z_-])"),
              s -> true,
              PII_MASK));

  private final List<Rule> rules;
  private final Set<String> known = new CopyOnWriteArraySet<>();

  private Redaction(List<Rule> rules, Collection<String> known) {
    this.rules = List.copyOf(rules);
    known.forEach(this::addSecret);
  }

  /** Secrets only: every secret rule, no personal data rules. */
  public static Redaction secrets() {
    return new Redaction(SECRET_RULES, List.of());
  }

  /** Secrets and the built-in personal data rules (emails, card numbers, phone numbers). */
  public static Redaction secretsAndPii() {
    return builder().pii(true).build();
  }

  /** A builder starting from the secret rules. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures a {@link Redaction}. */
  public static final class Builder {
    private boolean pii;
    private final List<Rule> extra = new ArrayList<>();
    private final List<String> known = new ArrayList<>();

    private Builder() {}

    /** Adds the built-in personal data rules (emails, Luhn-valid card numbers, phone numbers). */
    public Builder pii(boolean on) {
      this.pii = on;
      return this;
    }

    /**
     * Adds a configured pattern, masked as personal data.
     *
     * @throws IllegalArgumentException naming the pattern if it is not a valid regex
     */
    public Builder pattern(String name, String regex) {
      Pattern p;
      try {
        p = Pattern.compile(regex);
      } catch (java.util.regex.PatternSyntaxException x) {
        throw new IllegalArgumentException(
            "redaction pattern '" + name + "' is not a valid regular expression: " + x.getMessage(),
            x);
      }
      extra.add(new Rule(name, p, s -> true, PII_MASK));
      return this;
    }

    /** Adds exact secret values to mask. */
    public Builder known(Collection<String> values) {
      known.addAll(values);
      return this;
    }

    /** The redaction. */
    public Redaction build() {
      List<Rule> all = new ArrayList<>(SECRET_RULES);
      if (pii) {
        all.addAll(PII_RULES);
      }
      all.addAll(extra);
      return new Redaction(all, known);
    }
  }

  /**
   * Adds an exact secret value to mask from now on; values shorter than 6 characters are refused.
   */
  public void addSecret(String value) {
    if (value.length() < 6) {
      throw new IllegalArgumentException(
          "secret values shorter than 6 characters cannot be masked safely (length "
              + value.length()
              + ")");
    }
    known.add(value);
  }

  /** The rules in the order they are applied. */
  public List<Rule> rules() {
    return rules;
  }

  /** Returns {@code text} with every secret (and configured personal data) masked. */
  public String redact(String text) {
    String out = text;
    for (String s : known) {
      out = out.replace(s, MASK);
    }
    for (Rule r : rules) {
      out = apply(r, out);
    }
    return out;
  }

  /** True if {@code text} holds anything this redaction would mask. */
  public boolean finds(String text) {
    return !redact(text).equals(text);
  }

  private static String apply(Rule r, String text) {
    Matcher m = r.pattern().matcher(text);
    if (!m.find()) {
      return text;
    }
    boolean grouped = r.pattern().pattern().contains("(?<v>");
    StringBuilder sb = new StringBuilder(text.length());
    int last = 0;
    do {
      int start = grouped ? m.start("v") : m.start();
      int end = grouped ? m.end("v") : m.end();
      if (start < 0) {
        continue;
      }
      String hit = text.substring(start, end);
      if (hit.equals(MASK) || hit.equals(PII_MASK) || !r.accept().test(hit)) {
        continue;
      }
      sb.append(text, last, start).append(r.mask());
      last = end;
    } while (m.find());
    if (last == 0) {
      return text;
    }
    return sb.append(text, last, text.length()).toString();
  }

  /**
   * Returns {@code value} with secrets masked in strings, leaving members alone whatever their
   * names; for data the model needs, such as a {@code token_count}.
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
                        sensitiveName(k) && !(v instanceof JsonValue.JsonNull)
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

  /** True if a member called {@code name} holds a secret by its name alone. */
  public static boolean sensitiveName(String name) {
    return SENSITIVE_NAME.matcher(name).matches() && !BENIGN_NAME.matcher(name).matches();
  }

  /**
   * A value assigned to a secret-sounding name is masked when it does not look like code or a
   * placeholder: at least 8 characters, not a plain lower-case word or identifier path, and either
   * mixed classes of characters or high Shannon entropy.
   */
  static boolean looksSecret(String v) {
    if (v.length() < 8) {
      return false;
    }
    if (v.matches("[a-z_.]+|[A-Z_]+|\\$\\{?[A-Za-z_]+}?|(?i)(true|false|null|none|redacted)")) {
      return false;
    }
    if (!notCode(v) || v.matches("[a-z]+(-[a-z]+)+|[A-Z][a-z]*(-[A-Z][a-z]*)+")) {
      return false;
    }
    int classes = 0;
    classes += v.chars().anyMatch(Character::isLowerCase) ? 1 : 0;
    classes += v.chars().anyMatch(Character::isUpperCase) ? 1 : 0;
    classes += v.chars().anyMatch(Character::isDigit) ? 1 : 0;
    classes += v.chars().anyMatch(c -> !Character.isLetterOrDigit(c)) ? 1 : 0;
    return classes >= 2 || entropy(v) >= 3.0;
  }

  /** False for what reads as code: a call, a dotted identifier path, a constant or a variable. */
  static boolean notCode(String v) {
    return !(v.contains("(")
        || v.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+")
        || v.matches("[A-Z][A-Z0-9_]*|\\$\\{?[A-Za-z_][A-Za-z0-9_]*}?"));
  }

  /** Shannon entropy in bits per character. */
  static double entropy(String s) {
    int[] counts = new int[128];
    int other = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 128) {
        counts[c]++;
      } else {
        other++;
      }
    }
    double h = 0;
    for (int c : counts) {
      if (c > 0) {
        double p = (double) c / s.length();
        h -= p * Math.log(p) / Math.log(2);
      }
    }
    if (other > 0) {
      double p = (double) other / s.length();
      h -= p * Math.log(p) / Math.log(2);
    }
    return h;
  }

  /** True if the digits of {@code s} (separators ignored) pass the Luhn check. */
  static boolean luhn(String s) {
    String digits = s.replaceAll("[ -]", "");
    if (digits.length() < 13 || digits.length() > 19) {
      return false;
    }
    int sum = 0;
    boolean dbl = false;
    for (int i = digits.length() - 1; i >= 0; i--) {
      int d = digits.charAt(i) - '0';
      if (dbl) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      dbl = !dbl;
    }
    return sum % 10 == 0;
  }
}
