package dev.keel.tools;

import dev.keel.json.JsonValue;
import dev.keel.redact.Redaction;
import java.util.Collection;

/**
 * Removes secrets from arguments and results before they are audited or logged: every known secret
 * value (at least 6 characters), members whose names say they hold a secret, and secrets in real
 * formats. A thin face over the shared {@link Redaction} layer, which also masks logs, traces and
 * error responses.
 */
public final class Redactor {
  /** What replaces a secret. */
  public static final String MASK = Redaction.MASK;

  private final Redaction redaction;

  /** Creates a redactor with the secret rules that also masks {@code knownSecrets}. */
  public Redactor(Collection<String> knownSecrets) {
    this(Redaction.secrets(), knownSecrets);
  }

  /** Creates a redactor on a configured {@code redaction} that also masks {@code knownSecrets}. */
  public Redactor(Redaction redaction, Collection<String> knownSecrets) {
    this.redaction = redaction;
    knownSecrets.forEach(this::addSecret);
  }

  /** The shared redaction layer this redactor applies. */
  public Redaction redaction() {
    return redaction;
  }

  /** Adds a secret value to mask from now on; values shorter than 6 characters are refused. */
  public void addSecret(String value) {
    redaction.addSecret(value);
  }

  /** Returns {@code text} with every secret masked. */
  public String redact(String text) {
    return redaction.redact(text);
  }

  /** Returns {@code text} with known secrets and key shapes masked; same as {@link #redact}. */
  public String redactValues(String text) {
    return redaction.redact(text);
  }

  /**
   * Returns {@code value} with known secrets and key shapes masked in strings, leaving members
   * alone whatever their names; for data the model needs, such as a {@code token_count}.
   */
  public JsonValue redactValues(JsonValue value) {
    return redaction.redactValues(value);
  }

  /** Returns {@code value} with every secret masked, member names checked as well. */
  public JsonValue redact(JsonValue value) {
    return redaction.redact(value);
  }
}
