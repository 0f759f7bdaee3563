package dev.keel.tools;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A count-based circuit breaker for one tool.
 *
 * <p>Implementation notes: the transition table is
 *
 * <pre>
 *   CLOSED    --failure rate of the last {window} calls >= threshold (after {minCalls})--> OPEN
 *   OPEN      --{openFor} has passed, next call asks--------------------------------> HALF_OPEN
 *   HALF_OPEN --{probes} probes all succeeded-------------------------------------> CLOSED
 *   HALF_OPEN --any probe failed--------------------------------------------------> OPEN
 * </pre>
 *
 * In HALF_OPEN at most {@code probes} calls are let through at once; the rest are refused as if
 * OPEN. Time comes from an injected {@link InstantSource}, so tests drive it with a manual clock.
 * Every transition is reported to the listener outside the lock. A {@link ReentrantLock} guards the
 * state; no I/O happens under it.
 */
public final class CircuitBreaker {

  /** The breaker's states. */
  public enum State {
    /** Calls pass; outcomes are counted. */
    CLOSED,
    /** Calls are refused until the wait is over. */
    OPEN,
    /** A few probe calls pass to test recovery. */
    HALF_OPEN
  }

  /**
   * The breaker's settings.
   *
   * @param window how many recent calls the failure rate is computed over
   * @param minCalls calls needed in the window before it can open
   * @param failureRate fraction of failures (0..1] that opens it
   * @param openFor how long it stays open before probing
   * @param probes probe calls in half-open, all of which must succeed to close
   */
  public record Config(int window, int minCalls, double failureRate, Duration openFor, int probes) {

    /** Opens at 50% failures of the last 20 calls (at least 10), probes 3 after 30 s. */
    public static final Config DEFAULT = new Config(20, 10, 0.5, Duration.ofSeconds(30), 3);

    /** Validates the numbers. */
    public Config {
      if (window < 1 || minCalls < 1 || minCalls > window) {
        throw new IllegalArgumentException(
            "breaker needs 1 <= minCalls <= window, got minCalls="
                + minCalls
                + " window="
                + window);
      }
      if (!(failureRate > 0.0) || failureRate > 1.0) {
        throw new IllegalArgumentException(
            "breaker.failureRate must be in (0, 1], got " + failureRate);
      }
      Objects.requireNonNull(openFor, "openFor");
      if (openFor.isNegative() || openFor.isZero() || probes < 1) {
        throw new IllegalArgumentException(
            "breaker needs a positive openFor and probes >= 1, got " + openFor + ", " + probes);
      }
    }
  }

  /** A recorded state change. */
  public record Transition(String tool, State from, State to, Instant at) {}

  private final String tool;
  private final Config config;
  private final InstantSource clock;
  private final Consumer<Transition> listener;
  private final ReentrantLock lock = new ReentrantLock();
  private final Deque<Boolean> outcomes = new ArrayDeque<>();
  private State state = State.CLOSED;
  private Instant openedAt = Instant.EPOCH;
  private int probesInFlight;
  private int probeSuccesses;

  /** Creates a closed breaker for {@code tool}, reporting transitions to {@code listener}. */
  public CircuitBreaker(
      String tool, Config config, InstantSource clock, Consumer<Transition> listener) {
    this.tool = Objects.requireNonNull(tool, "tool");
    this.config = Objects.requireNonNull(config, "config");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** The current state (moving OPEN to HALF_OPEN does not happen here; only a call does that). */
  public State state() {
    lock.lock();
    try {
      return state;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Asks to make a call. Returns true if it may proceed; the caller must then report exactly one
   * {@link #onSuccess()} or {@link #onFailure()}.
   */
  public boolean tryAcquire() {
    Transition t = null;
    boolean permitted;
    lock.lock();
    try {
      if (state == State.OPEN && !clock.instant().isBefore(openedAt.plus(config.openFor()))) {
        t = move(State.HALF_OPEN);
        probesInFlight = 0;
        probeSuccesses = 0;
      }
      permitted =
          switch (state) {
            case CLOSED -> true;
            case OPEN -> false;
            case HALF_OPEN -> {
              if (probesInFlight + probeSuccesses < config.probes()) {
                probesInFlight++;
                yield true;
              }
              yield false;
            }
          };
    } finally {
      lock.unlock();
    }
    publish(t);
    return permitted;
  }

  /** Reports that a permitted call succeeded. */
  public void onSuccess() {
    record(true);
  }

  /** Reports that a permitted call failed in a way that counts against the tool. */
  public void onFailure() {
    record(false);
  }

  /** Reports that a permitted call ended in a way that says nothing about the tool's health. */
  public void onIgnored() {
    lock.lock();
    try {
      if (state == State.HALF_OPEN && probesInFlight > 0) {
        probesInFlight--;
      }
    } finally {
      lock.unlock();
    }
  }

  private void record(boolean success) {
    Transition t = null;
    lock.lock();
    try {
      switch (state) {
        case CLOSED -> {
          outcomes.addLast(success);
          while (outcomes.size() > config.window()) {
            outcomes.removeFirst();
          }
          long failures = outcomes.stream().filter(ok -> !ok).count();
          if (outcomes.size() >= config.minCalls()
              && failures >= Math.ceil(config.failureRate() * outcomes.size())) {
            t = open();
          }
        }
        case HALF_OPEN -> {
          probesInFlight = Math.max(0, probesInFlight - 1);
          if (!success) {
            t = open();
          } else if (++probeSuccesses >= config.probes()) {
            outcomes.clear();
            t = move(State.CLOSED);
          }
        }
        case OPEN -> {
          // A call permitted before the breaker opened finished late; it changes nothing.
        }
      }
    } finally {
      lock.unlock();
    }
    publish(t);
  }

  private Transition open() {
    openedAt = clock.instant();
    outcomes.clear();
    return move(State.OPEN);
  }

  private Transition move(State to) {
    Transition t = new Transition(tool, state, to, clock.instant());
    state = to;
    return t;
  }

  private void publish(Transition t) {
    if (t != null) {
      listener.accept(t);
    }
  }
}
