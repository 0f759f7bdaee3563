package dev.keel.tool;

/** How a tool behaves when the same call is made twice. */
public enum Idempotency {
  /** Repeating the call has no further effect (reads, upserts by natural key). */
  NATURAL,
  /** The tool honours the idempotency key Keel passes: a repeat with the same key is a no-op. */
  KEYED,
  /** Neither: a repeat may repeat the side effect. */
  NONE;

  /** Whether a call whose outcome is unknown may be sent again safely. */
  public boolean safeToRetry() {
    return this != NONE;
  }
}
