package dev.keel.run;

import java.time.Instant;
import java.util.Objects;

/**
 * An approval the run waits on.
 *
 * @param approvalId the approval's id
 * @param kind {@code tool_call} or {@code outcome_unknown}
 * @param callId the call it decides
 * @param argumentsHash SHA-256 of the canonical arguments it was asked for
 * @param expiresAt when it expires if nobody decides
 */
public record PendingApproval(
    String approvalId, String kind, String callId, String argumentsHash, Instant expiresAt) {
  /** Checks every field is present. */
  public PendingApproval {
    Objects.requireNonNull(approvalId, "approvalId");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(callId, "callId");
    Objects.requireNonNull(argumentsHash, "argumentsHash");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }
}
