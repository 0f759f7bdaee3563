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
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A store that forwards every call to another; subclasses override the calls they observe or
 * disturb (fault injection, counting).
 */
public abstract class ForwardingRunStore implements RunStore {
  /** The store every call goes to. */
  protected final RunStore delegate;

  /** Forwards to {@code delegate}. */
  protected ForwardingRunStore(RunStore delegate) {
    this.delegate = delegate;
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
    return delegate.claim(workerId, ttl, max);
  }

  @Override
  public List<Lease> renew(String workerId, Duration ttl) {
    return delegate.renew(workerId, ttl);
  }

  @Override
  public Lease append(Append append) {
    return delegate.append(append);
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
  public boolean wake(RunId runId) {
    return delegate.wake(runId);
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
