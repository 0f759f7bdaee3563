package dev.keel.store;

import dev.keel.run.RunState;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One atomic write of a run: events, the run row derived from the state after them, an optional
 * checkpoint, and what happens to the lease.
 *
 * @param lease the writer's lease; the store rejects the write unless it is still current
 * @param expectedLastSeq the run's last event sequence before these events
 * @param events the new events, dense from {@code expectedLastSeq + 1}
 * @param stateAfter the fold after the events; the run row and projections are derived from it
 * @param checkpoint a checkpoint to write in the same transaction
 * @param disposition keep or release the lease
 * @param leaseTime how long a kept lease lasts from now, by the store's clock
 */
public record Append(
    Lease lease,
    long expectedLastSeq,
    List<RecordedEvent> events,
    RunState stateAfter,
    Optional<Checkpoint> checkpoint,
    Disposition disposition,
    Duration leaseTime) {
  /** Checks the events follow on densely and match the state. */
  public Append {
    Objects.requireNonNull(lease, "lease");
    events = List.copyOf(events);
    Objects.requireNonNull(stateAfter, "stateAfter");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(disposition, "disposition");
    Objects.requireNonNull(leaseTime, "leaseTime");
    long expected = expectedLastSeq;
    for (RecordedEvent e : events) {
      if (e.envelope().seq() != ++expected || !e.envelope().runId().equals(lease.runId())) {
        throw new IllegalArgumentException(
            "events of an append must be dense from "
                + (expectedLastSeq + 1)
                + " and of "
                + lease.runId());
      }
    }
    if (stateAfter.lastSeq() != expected) {
      throw new IllegalArgumentException(
          "stateAfter is at seq " + stateAfter.lastSeq() + " but the events end at " + expected);
    }
  }
}
