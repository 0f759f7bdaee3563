package dev.keel.testkit;

import dev.keel.store.Append;
import dev.keel.store.Lease;
import dev.keel.store.RunStore;
import dev.keel.store.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * Wraps a store and injects the faults durable systems meet: a transient error before a write
 * commits, and the ambiguous one (Temporal's {@code ExecuteAndTimeout}): the write commits, then
 * the caller is told it failed. Driven by a seeded random source so a failing seed reproduces.
 */
public final class FaultyStore extends ForwardingRunStore {
  private final Random random;
  private final double transientRate;
  private final double commitThenFailRate;
  private volatile boolean enabled = true;

  /** Wraps {@code delegate}; each write fails transiently or ambiguously at the given rates. */
  public FaultyStore(
      RunStore delegate, Random random, double transientRate, double commitThenFailRate) {
    super(delegate);
    this.random = random;
    this.transientRate = transientRate;
    this.commitThenFailRate = commitThenFailRate;
  }

  /** Turns fault injection on or off. */
  public void enabled(boolean on) {
    enabled = on;
  }

  private int roll() {
    if (!enabled) {
      return 0;
    }
    double r = random.nextDouble();
    return r < transientRate ? 1 : r < transientRate + commitThenFailRate ? 2 : 0;
  }

  @Override
  public List<Lease> claim(String workerId, Duration ttl, int max) {
    int f = roll();
    if (f == 1) {
      throw new StoreException("injected transient failure before claim", true);
    }
    List<Lease> out = delegate.claim(workerId, ttl, max);
    if (f == 2) {
      throw new StoreException("injected failure after claim committed", true);
    }
    return out;
  }

  @Override
  public List<Lease> renew(String workerId, Duration ttl) {
    if (roll() == 1) {
      throw new StoreException("injected transient failure before renew", true);
    }
    return delegate.renew(workerId, ttl);
  }

  @Override
  public Lease append(Append append) {
    int f = roll();
    if (f == 1) {
      throw new StoreException("injected transient failure before append", true);
    }
    Lease out = delegate.append(append);
    if (f == 2) {
      throw new StoreException("injected timeout after append committed", true);
    }
    return out;
  }
}
