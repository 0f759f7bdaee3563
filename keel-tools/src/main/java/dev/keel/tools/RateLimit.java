package dev.keel.tools;

import java.time.Duration;
import java.util.Objects;

/**
 * At most {@code permits} calls per {@code per}, refilled smoothly (a token bucket holding at most
 * {@code permits}).
 *
 * @param permits calls allowed per period, at least 1
 * @param per the period
 */
public record RateLimit(int permits, Duration per) {

  /** No limit. */
  public static final RateLimit UNLIMITED = new RateLimit(Integer.MAX_VALUE, Duration.ofSeconds(1));

  /** Validates the numbers. */
  public RateLimit {
    if (permits < 1) {
      throw new IllegalArgumentException("rateLimit.permits must be >= 1, got " + permits);
    }
    Objects.requireNonNull(per, "per");
    if (per.isNegative() || per.isZero()) {
      throw new IllegalArgumentException("rateLimit.per must be positive, got " + per);
    }
  }

  /** Whether this is {@link #UNLIMITED}. */
  public boolean unlimited() {
    return permits == Integer.MAX_VALUE;
  }
}
