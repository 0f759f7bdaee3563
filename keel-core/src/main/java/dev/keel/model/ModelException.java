package dev.keel.model;

import java.time.Duration;
import java.util.Optional;

/** A model call that failed, classified by the adapter so the core can decide what to do. */
public final class ModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The classes of failure every adapter maps its provider's errors to. */
  public enum Kind {
    /** HTTP 429 or equal; retry after the given delay. */
    RATE_LIMITED(true),
    /** The provider is overloaded or failing (5xx). */
    OVERLOADED(true),
    /** No answer in time, or the connection broke. */
    TIMEOUT(true),
    /** The request does not fit the model's context window. */
    CONTEXT_TOO_LONG(false),
    /** The key was refused. */
    AUTHENTICATION(false),
    /** The provider rejected the request as malformed. */
    INVALID_REQUEST(false),
    /** The provider's content filter refused. */
    CONTENT_FILTERED(false),
    /** The provider's answer could not be understood (malformed or truncated). */
    MALFORMED_RESPONSE(true);

    private final boolean retryable;

    Kind(boolean retryable) {
      this.retryable = retryable;
    }

    /** Whether a failure of this kind may succeed when tried again. */
    public boolean retryable() {
      return retryable;
    }
  }

  private final Kind kind;
  private final transient Optional<Duration> retryAfter;

  /** Creates a failure of {@code kind}. */
  public ModelException(Kind kind, String message) {
    this(kind, message, Optional.empty(), null);
  }

  /** Creates a failure of {@code kind} with a provider-given retry delay and a cause. */
  public ModelException(
      Kind kind,
      String message,
      Optional<Duration> retryAfter,
      @org.jspecify.annotations.Nullable Throwable cause) {
    super(kind + ": " + message, cause);
    this.kind = kind;
    this.retryAfter = retryAfter;
  }

  /** The class of failure. */
  public Kind kind() {
    return kind;
  }

  /** Whether trying again may succeed. */
  public boolean retryable() {
    return kind.retryable();
  }

  /** The delay the provider asked for before a retry, if it gave one. */
  public Optional<Duration> retryAfter() {
    return retryAfter;
  }
}
