package dev.keel.tools;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Token buckets keyed by a string (a tool, or a tool and tenant), driven by an injected clock.
 *
 * <p>Implementation notes: each bucket is an immutable value replaced atomically with {@link
 * ConcurrentMap#compute}, so there is no lock and nothing blocks; a bucket refills continuously at
 * {@code permits / per} and holds at most {@code permits}.
 */
public final class RateLimiter {
  private record Bucket(double tokens, Instant at) {}

  private final InstantSource clock;
  private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** Creates a rate limiter on {@code clock}. */
  public RateLimiter(InstantSource clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Takes one permit from the bucket {@code key} under {@code limit}.
   *
   * @return {@link Duration#ZERO} if granted, otherwise how long until a permit is available
   */
  public Duration tryAcquire(String key, RateLimit limit) {
    if (limit.unlimited()) {
      return Duration.ZERO;
    }
    Instant now = clock.instant();
    double ratePerNano = limit.permits() / (double) limit.per().toNanos();
    Duration[] wait = {Duration.ZERO};
    buckets.compute(
        key,
        (k, b) -> {
          double tokens =
              b == null
                  ? limit.permits()
                  : Math.min(
                      limit.permits(),
                      b.tokens()
                          + Math.max(0, Duration.between(b.at(), now).toNanos()) * ratePerNano);
          if (tokens >= 1.0) {
            return new Bucket(tokens - 1.0, now);
          }
          wait[0] = Duration.ofNanos((long) Math.ceil((1.0 - tokens) / ratePerNano));
          return new Bucket(tokens, now);
        });
    return wait[0];
  }

  /** Gives back a permit taken from {@code key} for a call that was refused for another reason. */
  public void refund(String key, RateLimit limit) {
    if (limit.unlimited()) {
      return;
    }
    buckets.computeIfPresent(
        key, (k, b) -> new Bucket(Math.min(limit.permits(), b.tokens() + 1.0), b.at()));
  }
}
