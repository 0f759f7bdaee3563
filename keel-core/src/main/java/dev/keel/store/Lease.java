package dev.keel.store;

import dev.keel.run.RunId;
import java.time.Instant;
import java.util.Objects;

/**
 * A worker's right to advance a run. Every write carries it and the store checks, in the same
 * statement, that the epoch is still current and the lease has not expired by the store's clock.
 *
 * @param runId the run
 * @param workerId the holder, unique per worker process incarnation
 * @param epoch the fencing token; every claim increases it
 * @param signalSeq the newest signal sequence of the run when the store last answered
 * @param expiresAt when the lease expires, by the store's clock
 */
public record Lease(RunId runId, String workerId, long epoch, long signalSeq, Instant expiresAt) {
  /** Checks the fields. */
  public Lease {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (epoch < 1) {
      throw new IllegalArgumentException("lease epoch must be >= 1, got " + epoch);
    }
  }
}
