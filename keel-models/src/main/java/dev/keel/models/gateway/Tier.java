package dev.keel.models.gateway;

import java.time.Duration;

/**
 * One live tier of a fallback chain.
 *
 * @param targetId the model target it calls
 * @param timeout how long this tier may take in total, retries included
 * @param degraded whether an answer from this tier is marked degraded
 */
public record Tier(String targetId, Duration timeout, boolean degraded) {
  /** Checks the fields. */
  public Tier {
    if (targetId.isBlank()) {
      throw new IllegalArgumentException("tier targetId must not be blank");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("tier " + targetId + ": timeout must be positive");
    }
  }
}
