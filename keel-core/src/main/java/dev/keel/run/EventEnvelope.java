package dev.keel.run;

import java.time.Instant;
import java.util.Objects;

/**
 * One entry of a run's log: the event with where it stands.
 *
 * @param runId the run
 * @param seq the dense per-run sequence number, from 1
 * @param at when the engine recorded it (from its injected clock)
 * @param epoch the lease epoch of the writer; non-decreasing along the log
 * @param event the payload
 */
public record EventEnvelope(RunId runId, long seq, Instant at, long epoch, RunEvent event) {
  /** Checks the fields. */
  public EventEnvelope {
    Objects.requireNonNull(runId, "runId");
    if (seq < 1) {
      throw new IllegalArgumentException("event seq must be >= 1, got " + seq);
    }
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(event, "event");
  }
}
