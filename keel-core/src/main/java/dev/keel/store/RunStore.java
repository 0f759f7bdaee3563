package dev.keel.store;

import dev.keel.run.EventEnvelope;
import dev.keel.run.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The system of record for runs. Every implementation (in-memory, SQLite, PostgreSQL) passes the
 * same contract suite in {@code keel-testkit}.
 *
 * <p>Implementation notes: the contract every adapter keeps.
 *
 * <ul>
 *   <li>Time for leases, claims, approvals and signals is the store's clock ({@link #now()}), never
 *       the caller's. Event times are the engine's and are stored as given.
 *   <li>{@link #append} is one transaction: a single fenced UPDATE of the run row checks the lease
 *       (owner, epoch, not expired) and the expected last sequence; on success the events, the
 *       projections they imply (the tool-invocation ledger for {@code tool.*}, the approval rows
 *       for {@code approval.requested}), the run row and the optional checkpoint are written; on
 *       failure nothing is written and {@link LeaseLostException} is thrown.
 *   <li>A claim increases the epoch. A run is claimable when its {@code ready_at} has come and it
 *       has no live lease. Claims of several workers never return the same run.
 *   <li>Signals are dense per run and wake the run ({@code ready_at = now}); a signal for a
 *       terminal run is refused.
 *   <li>The tool-invocation ledger is unique per (tool, idempotency key).
 * </ul>
 */
public interface RunStore extends AutoCloseable {

  /** The store's clock. */
  Instant now();

  /**
   * Creates a run with its first event in one transaction. With an idempotency key that the tenant
   * already used, returns the existing run instead, however many callers race.
   */
  CreateResult create(NewRun run);

  /**
   * Claims up to {@code max} claimable runs for {@code workerId}, each with a lease of {@code ttl}
   * and a new epoch, oldest ready first.
   */
  List<Lease> claim(String workerId, Duration ttl, int max);

  /**
   * Extends every live lease {@code workerId} holds by {@code ttl} and returns them, with each
   * run's newest signal sequence. A lease not returned is lost.
   */
  List<Lease> renew(String workerId, Duration ttl);

  /**
   * Writes {@code append} atomically, fenced by its lease.
   *
   * @return the lease as extended (or as it was when released), with the newest signal sequence
   * @throws LeaseLostException if the lease is no longer current; nothing was written
   * @throws StoreException if the store failed; the write may or may not have committed
   */
  Lease append(Append append);

  /** The newest checkpoint of {@code runId} and every event after it. */
  Loaded load(RunId runId);

  /** Events of {@code runId} after {@code afterSeq}, at most {@code limit}, in order. */
  List<EventEnvelope> events(RunId runId, long afterSeq, int limit);

  /** The chain hash stored with each event of {@code runId}, in order, for verification. */
  List<String> eventHashes(RunId runId);

  /** Every checkpoint of {@code runId}, oldest first. */
  List<Checkpoint> checkpoints(RunId runId);

  /** Signals of {@code runId} after {@code afterSeq}, in order. */
  List<Signal> signals(RunId runId, long afterSeq);

  /**
   * Records a signal for a run of {@code tenant} and wakes it.
   *
   * @return the signal's sequence, or empty if the run does not exist for this tenant or has ended
   */
  Optional<Long> signal(String tenant, RunId runId, SignalPayload payload);

  /**
   * Makes {@code runId} claimable now, unless it is already due, and wakes idle workers; records
   * nothing in the run. The engine wakes a parent run this way when one of its sub-runs ends, so
   * the parent does not wait for its poll timer (docs/decisions/0025-subrun-wake.md).
   *
   * @return false if the run does not exist or has ended
   */
  boolean wake(RunId runId);

  /**
   * Decides a pending approval of {@code tenant} exactly once: the conditional update succeeds only
   * while it is pending and not expired by the store's clock; then its signal is recorded in the
   * same transaction.
   *
   * @return the approval after the attempt, or empty if it does not exist for this tenant
   */
  Optional<ApprovalRecord> decide(String tenant, SignalPayload.ApprovalDecision decision);

  /** Expires the pending approvals of {@code runId} whose time has come, signalling each. */
  int expireApprovals(RunId runId);

  /** An approval of {@code tenant}. */
  Optional<ApprovalRecord> approval(String tenant, String approvalId);

  /** Approvals of {@code tenant} with {@code status} (any status when empty), newest first. */
  List<ApprovalRecord> approvals(String tenant, Optional<String> status, int limit);

  /** The run row of {@code runId}, whatever its tenant; for workers and checkers. */
  Optional<RunRow> row(RunId runId);

  /** Every run row, for invariant checks and administration. */
  List<RunRow> rows();

  /** Ledger entries of {@code runId}: the tool-invocation projection, one per (tool, key). */
  List<LedgerEntry> ledger(RunId runId);

  /**
   * Blocks until work may be claimable (a run created, signalled or released with a timer) or
   * {@code max} passes. Spurious returns are allowed; a missed wake-up only costs {@code max}.
   * PostgreSQL uses LISTEN/NOTIFY so a signalled run is picked up within milliseconds by any worker
   * process; embedded stores wake waiters in the same process.
   */
  void awaitWork(Duration max) throws InterruptedException;

  @Override
  void close();
}
