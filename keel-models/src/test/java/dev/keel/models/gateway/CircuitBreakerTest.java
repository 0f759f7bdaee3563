package dev.keel.models.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final TestClock clock = new TestClock();
  private final CircuitBreaker breaker =
      new CircuitBreaker("alpha", 3, Duration.ofSeconds(30), clock);

  @Test
  void opensAfterThresholdConsecutiveFailures() {
    breaker.failure();
    breaker.failure();
    assertThat(breaker.refusal()).isEmpty();
    breaker.failure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(breaker.refusal()).get().asString().contains("open until");
  }

  @Test
  void successResetsTheFailureCount() {
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void halfOpenLetsOneProbeThroughAndClosesOnSuccess() {
    openIt();
    clock.advance(Duration.ofSeconds(30));
    assertThat(breaker.refusal()).isEmpty();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(breaker.refusal()).get().asString().contains("probe is out");
    breaker.success();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breaker.refusal()).isEmpty();
  }

  @Test
  void halfOpenProbeFailureReopensForAnotherPeriod() {
    openIt();
    clock.advance(Duration.ofSeconds(31));
    assertThat(breaker.refusal()).isEmpty();
    breaker.failure();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    clock.advance(Duration.ofSeconds(29));
    assertThat(breaker.refusal()).isPresent();
    clock.advance(Duration.ofSeconds(1));
    assertThat(breaker.refusal()).isEmpty();
  }

  @Test
  void retryAfterCoolDownRefusesCallsUntilItPasses() {
    breaker.coolDown(Duration.ofSeconds(10));
    assertThat(breaker.refusal()).get().asString().contains("Retry-After");
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    clock.advance(Duration.ofSeconds(10));
    assertThat(breaker.refusal()).isEmpty();
  }

  private void openIt() {
    breaker.failure();
    breaker.failure();
    breaker.failure();
  }
}
