package dev.keel.store;

import dev.keel.run.RunId;
import java.time.Instant;
import java.util.Objects;

/**
 * A stored signal.
 *
 * @param runId the run it is for
 * @param seq its dense per-run sequence, from 1
 * @param at when the store recorded it (store clock)
 * @param payload what it says
 */
public record Signal(RunId runId, long seq, Instant at, SignalPayload payload) {
  /** Checks the fields. */
  public Signal {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(payload, "payload");
  }
}
