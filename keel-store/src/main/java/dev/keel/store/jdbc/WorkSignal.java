package dev.keel.store.jdbc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes the workers of this process that wait for claimable work. A wake-up bumps a generation; a
 * known timer (a run released until a time) shortens the wait so the run is claimed on time.
 */
final class WorkSignal {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long generation;
  private long nextTimerMillis = Long.MAX_VALUE;

  /** Wakes every waiter now. */
  void wake() {
    lock.lock();
    try {
      generation++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Notes that a run becomes claimable at {@code epochMillis}; waiters wake by then. */
  void timer(long epochMillis) {
    lock.lock();
    try {
      if (epochMillis < nextTimerMillis) {
        nextTimerMillis = epochMillis;
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Waits until a wake-up, a due timer, or {@code max}. */
  void await(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    lock.lock();
    try {
      long seen = generation;
      while (generation == seen) {
        long now = System.currentTimeMillis();
        if (nextTimerMillis <= now) {
          nextTimerMillis = Long.MAX_VALUE;
          return;
        }
        long left = deadline - System.nanoTime();
        if (nextTimerMillis != Long.MAX_VALUE) {
          left = Math.min(left, TimeUnit.MILLISECONDS.toNanos(nextTimerMillis - now));
        }
        if (left <= 0) {
          return;
        }
        changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }
}
