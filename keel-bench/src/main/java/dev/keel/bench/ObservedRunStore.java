package dev.keel.bench;

import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.Append;
import dev.keel.store.CreateResult;
import dev.keel.store.Disposition;
import dev.keel.store.Lease;
import dev.keel.store.Loaded;
import dev.keel.store.NewRun;
import dev.keel.store.RunStore;
import dev.keel.testkit.ForwardingRunStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A store that passes every call through and counts what the engine asks of it: appends, events,
 * claims, loads, and runs that ended or parked. The benchmark waits on it instead of polling the
 * database, so waiting adds no load. It keeps no state per run.
 */
final class ObservedRunStore extends ForwardingRunStore {
  private final Semaphore ended = new Semaphore(0);
  private final AtomicLong parked = new AtomicLong();
  private final AtomicLong appends = new AtomicLong();
  private final AtomicLong events = new AtomicLong();
  private final AtomicLong claims = new AtomicLong();
  private final AtomicLong loads = new AtomicLong();
  private final AtomicLong renewals = new AtomicLong();
  private final AtomicLong creates = new AtomicLong();
  private final AtomicLong notCompleted = new AtomicLong();

  /** Observes {@code delegate}. */
  ObservedRunStore(RunStore delegate) {
    super(delegate);
  }

  /** What the engine asked of the store so far. */
  record Counts(long creates, long appends, long events, long claims, long loads, long renewals) {
    /** The difference from {@code before}. */
    Counts minus(Counts before) {
      return new Counts(
          creates - before.creates,
          appends - before.appends,
          events - before.events,
          claims - before.claims,
          loads - before.loads,
          renewals - before.renewals);
    }
  }

  /** The counts so far. */
  Counts counts() {
    return new Counts(
        creates.get(), appends.get(), events.get(), claims.get(), loads.get(), renewals.get());
  }

  /** How many runs ended in a status other than completed. */
  long notCompleted() {
    return notCompleted.get();
  }

  /** Waits until {@code n} more runs have ended; false if {@code max} passed first. */
  boolean awaitEnded(int n, Duration max) throws InterruptedException {
    return ended.tryAcquire(n, max.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** How many ended runs nobody has waited for yet. */
  int endedNotAwaited() {
    return ended.availablePermits();
  }

  /** How many runs have released their lease to wait for a person, so far. */
  long parked() {
    return parked.get();
  }

  @Override
  public Lease append(Append append) {
    Lease lease = delegate.append(append);
    appends.incrementAndGet();
    events.addAndGet(append.events().size());
    RunStatus status = append.stateAfter().status();
    if (status.terminal()) {
      if (status != RunStatus.COMPLETED) {
        notCompleted.incrementAndGet();
      }
      ended.release();
    } else if (status == RunStatus.WAITING && append.disposition() instanceof Disposition.Release) {
      parked.incrementAndGet();
    }
    return lease;
  }

  @Override
  public CreateResult create(NewRun run) {
    CreateResult r = delegate.create(run);
    creates.incrementAndGet();
    return r;
  }

  @Override
  public List<Lease> claim(String workerId, Duration ttl, int max) {
    claims.incrementAndGet();
    return delegate.claim(workerId, ttl, max);
  }

  @Override
  public List<Lease> renew(String workerId, Duration ttl) {
    renewals.incrementAndGet();
    return delegate.renew(workerId, ttl);
  }

  @Override
  public Loaded load(RunId runId) {
    loads.incrementAndGet();
    return delegate.load(runId);
  }
}
