package dev.keel.store;

import dev.keel.run.RunId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A worker's right to advance a run. Every write carries it and the store checks, in the same
 * statement, that the epoch is still current and the lease has not expired by the store's clock.
 *
 * @param runId the run
 * @param workerId the holder, unique per worker process incarnation
 * @param epoch the fencing token; every claim increases it
 * @param signalSeq the newest signal sequence of the run when the store last answered
 * @param expiresAt when the lease expires, by the store's clock
 * @param readyAt for a lease just claimed, when the run had become claimable, by the store's clock:
 *     its creation, the release that made it runnable, the signal or wake-up that did, its timer,
 *     or the expiry of the previous holder's lease, whichever came last; empty on every other lease
 *     (renewed, appended)
 */
public record Lease(
    RunId runId,
    String workerId,
    long epoch,
    long signalSeq,
    Instant expiresAt,
    Optional<Instant> readyAt) {
  /** Checks the fields. */
  public Lease {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(expiresAt, "expiresAt");
    Objects.requireNonNull(readyAt, "readyAt");
    if (epoch < 1) {
      throw new IllegalArgumentException("lease epoch must be >= 1, got " + epoch);
    }
  }

  /** A lease that was not just claimed (renewed or kept by an append). */
  public Lease(RunId runId, String workerId, long epoch, long signalSeq, Instant expiresAt) {
    this(runId, workerId, epoch, signalSeq, expiresAt, Optional.empty());
  }
}
