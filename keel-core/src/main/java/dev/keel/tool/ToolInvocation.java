package dev.keel.tool;

import dev.keel.json.JsonValue.JsonObject;
import java.util.Objects;

/**
 * One call of a tool as the engine makes it.
 *
 * @param tenant the tenant the run belongs to
 * @param runId the run making the call
 * @param callId the call's stable id within the run
 * @param idempotencyKey derived from (run, step, call); the same on every retry and resume
 * @param arguments the validated (and possibly approver-edited) arguments
 * @param attempt 1 for the first try, counting up on retries and resumes
 */
public record ToolInvocation(
    String tenant,
    String runId,
    String callId,
    String idempotencyKey,
    JsonObject arguments,
    int attempt) {
  /** Checks every field is present. */
  public ToolInvocation {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(callId, "callId");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    Objects.requireNonNull(arguments, "arguments");
  }
}
