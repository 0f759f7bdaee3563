package dev.keel.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  @Test
  void bucketRefillsSmoothlyOnTheManualClock() {
    ManualClock clock = new ManualClock(Fixtures.T0);
    RateLimiter limiter = new RateLimiter(clock);
    RateLimit limit = new RateLimit(2, Duration.ofSeconds(10));
    assertThat(limiter.tryAcquire("k", limit)).isZero();
    assertThat(limiter.tryAcquire("k", limit)).isZero();
    assertThat(limiter.tryAcquire("k", limit)).isEqualTo(Duration.ofSeconds(5));
    assertThat(limiter.tryAcquire("other", limit)).isZero();
    clock.advance(Duration.ofSeconds(5));
    assertThat(limiter.tryAcquire("k", limit)).isZero();
    assertThat(limiter.tryAcquire("k", limit)).isPositive();
    clock.advance(Duration.ofHours(1));
    assertThat(limiter.tryAcquire("k", limit)).isZero();
    assertThat(limiter.tryAcquire("k", limit)).isZero();
    assertThat(limiter.tryAcquire("k", limit)).isPositive();
  }

  @Test
  void backoffGrowsAndIsCapped() {
    RetryPolicy p = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(300), 2.0, 0.0);
    assertThat(p.backoff(2, 0.9)).isEqualTo(Duration.ofMillis(100));
    assertThat(p.backoff(3, 0.9)).isEqualTo(Duration.ofMillis(200));
    assertThat(p.backoff(4, 0.9)).isEqualTo(Duration.ofMillis(300));
    assertThat(p.backoff(5, 0.9)).isEqualTo(Duration.ofMillis(300));
  }
}
