package dev.keel.tools;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how patiently a failed call is tried again. Retries happen only for failures the
 * tool marks retryable, and only for tools that are idempotent by nature or honour the idempotency
 * key; {@link GovernedTool} enforces both.
 *
 * @param maxAttempts total tries including the first, at least 1
 * @param initialBackoff the wait before the second try
 * @param maxBackoff the longest wait between tries
 * @param multiplier how much the wait grows per try, at least 1
 * @param jitter the fraction of each wait that is randomized (0 = none, 1 = full jitter)
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    Duration maxBackoff,
    double multiplier,
    double jitter) {

  /** One try, no retries. */
  public static final RetryPolicy NONE =
      new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(1), 1.0, 0.0);

  /** Three tries, 200 ms doubling to at most 5 s, half of each wait jittered. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(3, Duration.ofMillis(200), Duration.ofSeconds(5), 2.0, 0.5);

  /** Validates the numbers. */
  public RetryPolicy {
    if (maxAttempts < 1 || maxAttempts > 20) {
      throw new IllegalArgumentException("retry.maxAttempts must be 1..20, got " + maxAttempts);
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "retry backoff must satisfy 0 <= initialBackoff <= maxBackoff, got "
              + initialBackoff
              + " and "
              + maxBackoff);
    }
    if (!(multiplier >= 1.0) || multiplier > 10.0) {
      throw new IllegalArgumentException("retry.multiplier must be 1..10, got " + multiplier);
    }
    if (!(jitter >= 0.0) || jitter > 1.0) {
      throw new IllegalArgumentException("retry.jitter must be 0..1, got " + jitter);
    }
  }

  /**
   * The wait before try {@code nextAttempt} (2 for the first retry), given a uniform random number
   * in [0, 1).
   */
  public Duration backoff(int nextAttempt, double random) {
    double base =
        (double) initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, nextAttempt - 2));
    double capped = Math.min(base, (double) maxBackoff.toMillis());
    double jittered = capped * (1.0 - jitter) + capped * jitter * random;
    return Duration.ofMillis(Math.round(jittered));
  }
}
