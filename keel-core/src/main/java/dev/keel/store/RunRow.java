package dev.keel.store;

import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The run row as stored: the projection the API lists and the lease fields workers claim by.
 *
 * @param runId the run
 * @param tenant its tenant
 * @param agentName its agent
 * @param status its status (derived from the log)
 * @param lastSeq its last event sequence
 * @param signalSeq its newest signal sequence
 * @param leaseOwner the worker holding it, if any
 * @param leaseEpoch the epoch of the newest claim (0 before the first)
 * @param leaseExpiresAt when the lease expires, if held
 * @param readyAt when it becomes claimable, if it is waiting for time or is queued
 * @param idempotencyKey the client's creation key, if any
 * @param createdAt when it was created
 * @param updatedAt when it last changed
 */
public record RunRow(
    RunId runId,
    String tenant,
    String agentName,
    RunStatus status,
    long lastSeq,
    long signalSeq,
    Optional<String> leaseOwner,
    long leaseEpoch,
    Optional<Instant> leaseExpiresAt,
    Optional<Instant> readyAt,
    Optional<String> idempotencyKey,
    Instant createdAt,
    Instant updatedAt) {
  /** Checks the fields are present. */
  public RunRow {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(agentName, "agentName");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(leaseOwner, "leaseOwner");
    Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    Objects.requireNonNull(readyAt, "readyAt");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
  }
}
