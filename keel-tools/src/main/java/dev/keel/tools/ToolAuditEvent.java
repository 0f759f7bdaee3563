package dev.keel.tools;

import dev.keel.json.JsonValue;
import java.time.Instant;

/**
 * A fact the governed tool layer records about a call. Arguments and results are already redacted
 * when an event is built; the argument hash is of the unredacted arguments, so an approval can be
 * matched to it.
 */
public sealed interface ToolAuditEvent {

  /** When it happened. */
  Instant at();

  /** The tool concerned. */
  String tool();

  /** A model proposed a call. */
  record CallProposed(
      Instant at, String tenant, String runId, String tool, JsonValue arguments, String argsHash)
      implements ToolAuditEvent {}

  /**
   * The policy decided a proposed call: {@code allow}, {@code deny} or {@code require_approval}.
   */
  record PolicyDecided(
      Instant at, String tenant, String runId, String tool, String verdict, String reason)
      implements ToolAuditEvent {}

  /** A person's approval decision was checked before it reached the store. */
  record ApprovalChecked(
      Instant at,
      String tenant,
      String approvalId,
      String tool,
      String approver,
      boolean accepted,
      String reason)
      implements ToolAuditEvent {}

  /** A call was refused before anything ran (invalid arguments, limits, an open breaker). */
  record CallDenied(
      Instant at, String tenant, String runId, String callId, String tool, String reason)
      implements ToolAuditEvent {}

  /** One try of a call started. */
  record CallStarted(
      Instant at,
      String tenant,
      String runId,
      String callId,
      String tool,
      int attempt,
      JsonValue arguments)
      implements ToolAuditEvent {}

  /** One try of a call ended with {@code status} {@code ok} or {@code error}. */
  record CallFinished(
      Instant at,
      String tenant,
      String runId,
      String callId,
      String tool,
      int attempt,
      String status,
      JsonValue result,
      long durationMillis)
      implements ToolAuditEvent {}

  /** A tool's circuit breaker changed state. */
  record BreakerTransitioned(Instant at, String tool, String from, String to)
      implements ToolAuditEvent {}
}
