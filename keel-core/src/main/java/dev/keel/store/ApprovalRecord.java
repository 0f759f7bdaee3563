package dev.keel.store;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.RunId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * An approval as stored: the projection of {@code approval.requested}, decided exactly once by a
 * conditional update.
 *
 * @param approvalId its id ({@code apr_...})
 * @param tenant the run's tenant; only this tenant's approvers may decide
 * @param runId the run
 * @param kind {@code tool_call} or {@code outcome_unknown}
 * @param callId the call it decides
 * @param tool the tool
 * @param arguments the exact arguments it was asked for
 * @param argumentsHash SHA-256 of their canonical form
 * @param riskLevel the tool's risk level
 * @param reason why approval is needed
 * @param status {@code pending}, {@code approved}, {@code denied} or {@code expired}
 * @param decidedBy who decided, once decided
 * @param decidedAt when, once decided
 * @param expiresAt when it expires if nobody decides
 * @param createdAt when it was requested
 */
public record ApprovalRecord(
    String approvalId,
    String tenant,
    RunId runId,
    String kind,
    String callId,
    String tool,
    JsonObject arguments,
    String argumentsHash,
    int riskLevel,
    String reason,
    String status,
    Optional<String> decidedBy,
    Optional<Instant> decidedAt,
    Instant expiresAt,
    Instant createdAt) {
  /** Checks the fields are present. */
  public ApprovalRecord {
    Objects.requireNonNull(approvalId, "approvalId");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(decidedBy, "decidedBy");
    Objects.requireNonNull(decidedAt, "decidedAt");
  }
}
