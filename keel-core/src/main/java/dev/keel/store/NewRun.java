package dev.keel.store;

import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import java.util.Objects;
import java.util.Optional;

/**
 * A run to create.
 *
 * @param runId the id to give it
 * @param tenant its tenant
 * @param idempotencyKey the client's key; a second create with the same tenant and key returns the
 *     first run
 * @param created its first event ({@code run.created}, seq 1, epoch 0)
 */
public record NewRun(
    RunId runId, String tenant, Optional<String> idempotencyKey, RecordedEvent created) {
  /** Checks the first event is run.created of this run. */
  public NewRun {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    if (!(created.envelope().event() instanceof RunEvent.RunCreated)
        || created.envelope().seq() != 1
        || !created.envelope().runId().equals(runId)) {
      throw new IllegalArgumentException(
          "a new run's first event must be its run.created at seq 1");
    }
  }
}
