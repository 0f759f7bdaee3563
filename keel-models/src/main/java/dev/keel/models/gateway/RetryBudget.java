package dev.keel.models.gateway;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds retries across all calls so that retries cannot multiply load on a failing provider.
 *
 * <p>Implementation notes: every call deposits {@code ratio} of a retry, up to {@code cap}; every
 * retry withdraws one whole retry and is refused when less than one is left. The budget starts with
 * {@code initial}. So after {@code n} calls, the retries granted are never more than {@code initial
 * + ratio * n}; {@link #granted()} and {@link #calls()} let tests check exactly that.
 */
public final class RetryBudget {
  private final double ratio;
  private final double cap;
  private final ReentrantLock lock = new ReentrantLock();
  private double balance;
  private long calls;
  private long granted;

  /** Creates a budget of {@code ratio} retries per call, starting at {@code initial}. */
  public RetryBudget(double ratio, double initial, double cap) {
    if (ratio < 0 || initial < 0 || cap < initial) {
      throw new IllegalArgumentException(
          "retry budget needs ratio >= 0 and 0 <= initial <= cap, got "
              + ratio
              + ", "
              + initial
              + ", "
              + cap);
    }
    this.ratio = ratio;
    this.cap = cap;
    this.balance = initial;
  }

  /** A budget of 20% retries with 10 to start, capped at 100. */
  public static RetryBudget standard() {
    return new RetryBudget(0.2, 10, 100);
  }

  /** Records a new call. */
  public void recordCall() {
    lock.lock();
    try {
      calls++;
      balance = Math.min(cap, balance + ratio);
    } finally {
      lock.unlock();
    }
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  public boolean tryRetry() {
    lock.lock();
    try {
      if (balance < 1) {
        return false;
      }
      balance -= 1;
      granted++;
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** The retries granted so far. */
  public long granted() {
    lock.lock();
    try {
      return granted;
    } finally {
      lock.unlock();
    }
  }

  /** The calls recorded so far. */
  public long calls() {
    lock.lock();
    try {
      return calls;
    } finally {
      lock.unlock();
    }
  }
}
