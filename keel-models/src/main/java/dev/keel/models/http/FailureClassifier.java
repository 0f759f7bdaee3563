package dev.keel.models.http;

import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Maps a provider failure (HTTP status and error body, or an error event inside a stream) to a
 * {@link ModelException.Kind}.
 *
 * <p>Implementation notes: the status decides first (429 rate limited, 401/403 authentication, 408
 * timeout, 413 context too long, 5xx and Anthropic's 529 overloaded). A 400-class body is then
 * searched for the markers providers use for a context overflow ({@code context_length_exceeded},
 * "prompt is too long", "maximum context length", "input is too long") and for content filtering
 * ({@code content_filter}, {@code content_policy_violation}, {@code SAFETY}). Error events inside a
 * stream carry no status, so their type names decide ({@code overloaded_error}, {@code
 * rate_limit_error}, {@code ThrottlingException}, ...).
 */
public final class FailureClassifier {
  private static final int EXCERPT = 300;
  private static final Pattern KEY_LIKE =
      Pattern.compile("(sk-|sk_|key-|AKIA|ASIA|AIza)[A-Za-z0-9_\\-*.]{6,}");

  private FailureClassifier() {}

  /** Classifies an HTTP failure with status {@code status} and body {@code body}. */
  public static ModelException classify(
      String provider, int status, String body, Optional<Duration> retryAfter) {
    String lower = body.toLowerCase(Locale.ROOT);
    Kind kind =
        switch (status) {
          case 429 -> Kind.RATE_LIMITED;
          case 401, 403 -> Kind.AUTHENTICATION;
          case 408 -> Kind.TIMEOUT;
          case 413 -> Kind.CONTEXT_TOO_LONG;
          default -> {
            if (status >= 500) {
              yield lower.contains("throttl") ? Kind.RATE_LIMITED : Kind.OVERLOADED;
            }
            yield fromText(lower).orElse(Kind.INVALID_REQUEST);
          }
        };
    if (kind == Kind.INVALID_REQUEST
        && (lower.contains("throttl") || lower.contains("rate_limit"))) {
      kind = Kind.RATE_LIMITED;
    }
    return new ModelException(
        kind,
        provider + " answered HTTP " + status + ": " + excerpt(body),
        kind == Kind.RATE_LIMITED || kind == Kind.OVERLOADED ? retryAfter : Optional.empty(),
        null);
  }

  /** Classifies an error reported inside a stream, by its type and message text. */
  public static ModelException classifyStreamError(String provider, String errorText) {
    String lower = errorText.toLowerCase(Locale.ROOT);
    Kind kind;
    if (lower.contains("rate_limit")
        || lower.contains("throttl")
        || lower.contains("resource_exhausted")) {
      kind = Kind.RATE_LIMITED;
    } else if (lower.contains("overloaded")
        || lower.contains("server_error")
        || lower.contains("api_error")
        || lower.contains("internalserver")
        || lower.contains("serviceunavailable")
        || lower.contains("unavailable")) {
      kind = Kind.OVERLOADED;
    } else if (lower.contains("timeout")) {
      kind = Kind.TIMEOUT;
    } else if (lower.contains("authentication") || lower.contains("permission")) {
      kind = Kind.AUTHENTICATION;
    } else {
      kind = fromText(lower).orElse(Kind.OVERLOADED);
    }
    return new ModelException(kind, provider + " reported in its stream: " + excerpt(errorText));
  }

  private static Optional<Kind> fromText(String lower) {
    if (lower.contains("context_length")
        || lower.contains("context length")
        || lower.contains("context window")
        || lower.contains("prompt is too long")
        || lower.contains("input is too long")
        || lower.contains("too many tokens")
        || lower.contains("maximum context")
        || lower.contains("request_too_large")
        || lower.contains("exceeds the maximum number of tokens")) {
      return Optional.of(Kind.CONTEXT_TOO_LONG);
    }
    if (lower.contains("content_filter")
        || lower.contains("content_policy")
        || lower.contains("content filter")
        || lower.contains("\"safety\"")
        || lower.contains("guardrail")
        || lower.contains("responsible ai")) {
      return Optional.of(Kind.CONTENT_FILTERED);
    }
    if (lower.contains("invalid_api_key")
        || lower.contains("authentication_error")
        || lower.contains("unauthenticated")
        || lower.contains("api key not valid")) {
      return Optional.of(Kind.AUTHENTICATION);
    }
    return Optional.empty();
  }

  /** Shortens {@code body} for a message and blanks anything shaped like a key. */
  static String excerpt(String body) {
    String flat =
        KEY_LIKE
            .matcher(body.replace('\n', ' ').replace('\r', ' ').strip())
            .replaceAll("[redacted]");
    return flat.length() <= EXCERPT ? flat : flat.substring(0, EXCERPT) + "...";
  }
}
