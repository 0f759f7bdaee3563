package dev.keel.store;

import dev.keel.run.RunId;
import java.util.Objects;

/**
 * One row of the tool-invocation ledger.
 *
 * @param runId the run
 * @param callId the call
 * @param tool the tool
 * @param idempotencyKey the key, unique per tool
 * @param status {@code started}, {@code succeeded}, {@code failed} or {@code unknown}
 * @param attempts how many times it was started
 */
public record LedgerEntry(
    RunId runId, String callId, String tool, String idempotencyKey, String status, int attempts) {
  /** Checks the fields are present. */
  public LedgerEntry {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(callId, "callId");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    Objects.requireNonNull(status, "status");
  }
}
