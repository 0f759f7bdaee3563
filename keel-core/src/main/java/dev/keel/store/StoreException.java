package dev.keel.store;

/**
 * The store could not be reached or a statement failed for a reason other than fencing. The outcome
 * of a write that throws this is unknown: it may have committed.
 */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  /** Creates the exception. */
  public StoreException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** Creates the exception with no cause. */
  public StoreException(String message, boolean retryable) {
    super(message);
    this.retryable = retryable;
  }

  /** Whether the same operation may succeed if tried again. */
  public boolean retryable() {
    return retryable;
  }
}
