package dev.keel.testkit;

import dev.keel.run.EventEnvelope;
import dev.keel.run.RunId;
import dev.keel.store.Append;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Checkpoint;
import dev.keel.store.CreateResult;
import dev.keel.store.Lease;
import dev.keel.store.LedgerEntry;
import dev.keel.store.Loaded;
import dev.keel.store.NewRun;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.Signal;
import dev.keel.store.SignalPayload;
import dev.keel.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Wraps a store and injects the faults durable systems meet: a transient error before a write
 * commits, and the ambiguous one (Temporal's {@code ExecuteAndTimeout}): the write commits, then
 * the caller is told it failed. Driven by a seeded random source so a failing seed reproduces.
 */
public final class FaultyStore implements RunStore {
  private final RunStore delegate;
  private final Random random;
  private final double transientRate;
  private final double commitThenFailRate;
  private volatile boolean enabled = true;

  /** Wraps {@code delegate}; each write fails transiently or ambiguously at the given rates. */
  public FaultyStore(
      RunStore delegate, Random random, double transientRate, double commitThenFailRate) {
    this.delegate = delegate;
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
  public Instant now() {
    return delegate.now();
  }

  @Override
  public CreateResult create(NewRun run) {
    return delegate.create(run);
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

  @Override
  public Loaded load(RunId runId) {
    return delegate.load(runId);
  }

  @Override
  public List<EventEnvelope> events(RunId runId, long afterSeq, int limit) {
    return delegate.events(runId, afterSeq, limit);
  }

  @Override
  public List<String> eventHashes(RunId runId) {
    return delegate.eventHashes(runId);
  }

  @Override
  public List<Checkpoint> checkpoints(RunId runId) {
    return delegate.checkpoints(runId);
  }

  @Override
  public List<Signal> signals(RunId runId, long afterSeq) {
    return delegate.signals(runId, afterSeq);
  }

  @Override
  public Optional<Long> signal(String tenant, RunId runId, SignalPayload payload) {
    return delegate.signal(tenant, runId, payload);
  }

  @Override
  public Optional<ApprovalRecord> decide(String tenant, SignalPayload.ApprovalDecision decision) {
    return delegate.decide(tenant, decision);
  }

  @Override
  public int expireApprovals(RunId runId) {
    return delegate.expireApprovals(runId);
  }

  @Override
  public Optional<ApprovalRecord> approval(String tenant, String approvalId) {
    return delegate.approval(tenant, approvalId);
  }

  @Override
  public List<ApprovalRecord> approvals(String tenant, Optional<String> status, int limit) {
    return delegate.approvals(tenant, status, limit);
  }

  @Override
  public Optional<RunRow> row(RunId runId) {
    return delegate.row(runId);
  }

  @Override
  public List<RunRow> rows() {
    return delegate.rows();
  }

  @Override
  public List<LedgerEntry> ledger(RunId runId) {
    return delegate.ledger(runId);
  }

  @Override
  public void awaitWork(Duration max) throws InterruptedException {
    delegate.awaitWork(max);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
