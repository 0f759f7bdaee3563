package dev.keel.run;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one tool call of the current step stands.
 *
 * @param callId Keel's stable id of the call ({@code call_<step>_<index>})
 * @param providerCallId the model's id for the call, echoed back in the tool result
 * @param step the step that proposed it
 * @param tool the tool name
 * @param toolVersion the tool version recorded when proposed
 * @param arguments the arguments that will run (edited ones if an approver changed them)
 * @param status where the call stands
 * @param approvalId the approval it waits on, if any
 * @param attempts how many times it was started
 * @param startedEpoch the lease epoch of the last start, 0 if never started
 * @param result the data of a success, or the error text of a failure
 */
public record ToolCallState(
    String callId,
    String providerCallId,
    int step,
    String tool,
    String toolVersion,
    JsonObject arguments,
    Status status,
    Optional<String> approvalId,
    int attempts,
    long startedEpoch,
    Optional<JsonValue> result) {

  /** The life of a tool call. */
  public enum Status {
    /** Allowed by policy (or approved); not yet started. */
    READY,
    /** Waiting for a person to approve it. */
    AWAITING_APPROVAL,
    /** The intent is recorded; no result yet. */
    STARTED,
    /** It succeeded. */
    SUCCEEDED,
    /** It failed, was denied, or its approval was refused or expired. */
    FAILED,
    /** It may or may not have happened; its policy decides. */
    UNKNOWN;

    /** Whether the call is settled and its result can go to the model. */
    public boolean settled() {
      return this == SUCCEEDED || this == FAILED;
    }
  }

  /** Checks every field is present. */
  public ToolCallState {
    Objects.requireNonNull(callId, "callId");
    Objects.requireNonNull(providerCallId, "providerCallId");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(toolVersion, "toolVersion");
    Objects.requireNonNull(arguments, "arguments");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(approvalId, "approvalId");
    Objects.requireNonNull(result, "result");
  }

  /** Returns a copy with {@code status}. */
  public ToolCallState withStatus(Status s) {
    return new ToolCallState(
        callId,
        providerCallId,
        step,
        tool,
        toolVersion,
        arguments,
        s,
        approvalId,
        attempts,
        startedEpoch,
        result);
  }

  /** Returns a copy waiting on {@code approval}. */
  public ToolCallState awaiting(String approval) {
    return new ToolCallState(
        callId,
        providerCallId,
        step,
        tool,
        toolVersion,
        arguments,
        Status.AWAITING_APPROVAL,
        Optional.of(approval),
        attempts,
        startedEpoch,
        result);
  }

  /** Returns a copy with edited {@code args}. */
  public ToolCallState withArguments(JsonObject args) {
    return new ToolCallState(
        callId,
        providerCallId,
        step,
        tool,
        toolVersion,
        args,
        status,
        approvalId,
        attempts,
        startedEpoch,
        result);
  }

  /** Returns a copy started at {@code attempt} in {@code epoch}. */
  public ToolCallState started(int attempt, long epoch) {
    return new ToolCallState(
        callId,
        providerCallId,
        step,
        tool,
        toolVersion,
        arguments,
        Status.STARTED,
        approvalId,
        attempt,
        epoch,
        result);
  }

  /** Returns a copy settled with {@code s} and {@code value}. */
  public ToolCallState settled(Status s, JsonValue value) {
    return new ToolCallState(
        callId,
        providerCallId,
        step,
        tool,
        toolVersion,
        arguments,
        s,
        approvalId,
        attempts,
        startedEpoch,
        Optional.of(value));
  }
}
