package dev.keel.models.gateway;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A circuit breaker for one provider, with a cool-down for the provider's own Retry-After.
 *
 * <p>Implementation notes, the transition table:
 *
 * <pre>
 * state      event                                  next
 * CLOSED     success                                CLOSED (failures reset)
 * CLOSED     failure, consecutive &lt; threshold       CLOSED
 * CLOSED     failure, consecutive = threshold       OPEN (until now + openFor)
 * OPEN       allow() before the open period ends    OPEN, call refused
 * OPEN       allow() after it ends                  HALF_OPEN, one probe let through
 * HALF_OPEN  allow() while the probe is out         HALF_OPEN, call refused
 * HALF_OPEN  success                                CLOSED
 * HALF_OPEN  failure                                OPEN (until now + openFor)
 * any        Retry-After d                          calls refused until now + d, state kept
 * </pre>
 *
 * Time comes from an injected clock; the lock is never held across I/O.
 */
public final class CircuitBreaker {

  /** The breaker's state. */
  public enum State {
    /** Calls pass. */
    CLOSED,
    /** Calls are refused. */
    OPEN,
    /** One probe call passes; its outcome closes or reopens the breaker. */
    HALF_OPEN
  }

  private final String provider;
  private final int threshold;
  private final Duration openFor;
  private final InstantSource clock;
  private final ReentrantLock lock = new ReentrantLock();
  private State state = State.CLOSED;
  private int consecutiveFailures;
  private Instant openUntil = Instant.MIN;
  private Instant coolDownUntil = Instant.MIN;
  private boolean probeOut;

  /** Creates a closed breaker that opens after {@code threshold} consecutive failures. */
  public CircuitBreaker(String provider, int threshold, Duration openFor, InstantSource clock) {
    if (threshold < 1) {
      throw new IllegalArgumentException(
          "breaker threshold for " + provider + " must be at least 1");
    }
    this.provider = provider;
    this.threshold = threshold;
    this.openFor = openFor;
    this.clock = clock;
  }

  /** The provider this breaker guards. */
  public String provider() {
    return provider;
  }

  /**
   * The current state (an open breaker whose period ended still reads OPEN until the next call).
   */
  public State state() {
    lock.lock();
    try {
      return state;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether a call may go out now; when it may not, the reason. A HALF_OPEN breaker lets one probe
   * through; the caller must then report {@link #success()} or {@link #failure()}.
   */
  public java.util.Optional<String> refusal() {
    lock.lock();
    try {
      Instant now = clock.instant();
      if (now.isBefore(coolDownUntil)) {
        return java.util.Optional.of(
            provider + " asked to wait until " + coolDownUntil + " (Retry-After)");
      }
      return switch (state) {
        case CLOSED -> java.util.Optional.empty();
        case OPEN -> {
          if (now.isBefore(openUntil)) {
            yield java.util.Optional.of("circuit for " + provider + " is open until " + openUntil);
          }
          state = State.HALF_OPEN;
          probeOut = true;
          yield java.util.Optional.empty();
        }
        case HALF_OPEN -> {
          if (probeOut) {
            yield java.util.Optional.of(
                "circuit for " + provider + " is half-open and its probe is out");
          }
          probeOut = true;
          yield java.util.Optional.empty();
        }
      };
    } finally {
      lock.unlock();
    }
  }

  /** Records a successful call. */
  public void success() {
    lock.lock();
    try {
      state = State.CLOSED;
      consecutiveFailures = 0;
      probeOut = false;
    } finally {
      lock.unlock();
    }
  }

  /** Records a failed call that says something about the provider's health. */
  public void failure() {
    lock.lock();
    try {
      probeOut = false;
      consecutiveFailures++;
      if (state == State.HALF_OPEN || consecutiveFailures >= threshold) {
        state = State.OPEN;
        openUntil = clock.instant().plus(openFor);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Records that the call went out but said nothing about health (a rejected request). */
  public void neutral() {
    lock.lock();
    try {
      probeOut = false;
    } finally {
      lock.unlock();
    }
  }

  /** Refuses calls for {@code delay}, as the provider asked. */
  public void coolDown(Duration delay) {
    lock.lock();
    try {
      Instant until = clock.instant().plus(delay);
      if (until.isAfter(coolDownUntil)) {
        coolDownUntil = until;
      }
    } finally {
      lock.unlock();
    }
  }
}
