package dev.keel.run;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.ModelResponse;
import dev.keel.tool.UnknownOutcomePolicy;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One fact in a run's append-only log, in the past tense. The log envelope (run, sequence, time,
 * epoch) is {@link EventEnvelope}; this is only the payload. The set is sealed so that every fold,
 * codec and projection must handle a new case before it compiles.
 */
public sealed interface RunEvent {

  /** The wire type, such as {@code tool.started}. */
  String type();

  /**
   * The run was created with its definition pinned. A fork carries {@code fork}: the source run,
   * the checkpoint it was taken from, and the conversation as of that checkpoint. {@code createdBy}
   * is the authenticated principal (API key id) that created it through the API, inherited by its
   * sub-runs; cost is attributed to it and four-eyes approval refuses its own decisions.
   */
  record RunCreated(
      String tenant,
      String agentName,
      String agentVersion,
      JsonObject input,
      Budget budget,
      String channel,
      Optional<String> threadId,
      Optional<String> parentRunId,
      JsonObject metadata,
      Optional<JsonObject> fork,
      JsonObject versions,
      Optional<String> createdBy)
      implements RunEvent {
    /** A run whose creator is not recorded (created in-process, not through the API). */
    public RunCreated(
        String tenant,
        String agentName,
        String agentVersion,
        JsonObject input,
        Budget budget,
        String channel,
        Optional<String> threadId,
        Optional<String> parentRunId,
        JsonObject metadata,
        Optional<JsonObject> fork,
        JsonObject versions) {
      this(
          tenant,
          agentName,
          agentVersion,
          input,
          budget,
          channel,
          threadId,
          parentRunId,
          metadata,
          fork,
          versions,
          Optional.empty());
    }

    /**
     * A run with no recorded versions beyond the agent's ({@code versions} holds the prompt, model
     * and tool versions the run was created with).
     */
    public RunCreated(
        String tenant,
        String agentName,
        String agentVersion,
        JsonObject input,
        Budget budget,
        String channel,
        Optional<String> threadId,
        Optional<String> parentRunId,
        JsonObject metadata,
        Optional<JsonObject> fork) {
      this(
          tenant,
          agentName,
          agentVersion,
          input,
          budget,
          channel,
          threadId,
          parentRunId,
          metadata,
          fork,
          JsonValue.EMPTY_OBJECT);
    }

    /** A run that is not a fork. */
    public RunCreated(
        String tenant,
        String agentName,
        String agentVersion,
        JsonObject input,
        Budget budget,
        String channel,
        Optional<String> threadId,
        Optional<String> parentRunId,
        JsonObject metadata) {
      this(
          tenant,
          agentName,
          agentVersion,
          input,
          budget,
          channel,
          threadId,
          parentRunId,
          metadata,
          Optional.empty());
    }

    /** Checks every field is present. */
    public RunCreated {
      Objects.requireNonNull(createdBy, "createdBy");
      Objects.requireNonNull(fork, "fork");
      Objects.requireNonNull(versions, "versions");
      Objects.requireNonNull(tenant, "tenant");
      Objects.requireNonNull(agentName, "agentName");
      Objects.requireNonNull(agentVersion, "agentVersion");
      Objects.requireNonNull(input, "input");
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(channel, "channel");
      Objects.requireNonNull(threadId, "threadId");
      Objects.requireNonNull(parentRunId, "parentRunId");
      Objects.requireNonNull(metadata, "metadata");
    }

    @Override
    public String type() {
      return "run.created";
    }
  }

  /** A worker started the run for the first time. */
  record RunStarted() implements RunEvent {
    @Override
    public String type() {
      return "run.started";
    }
  }

  /** A model call was decided and its cost reserved; the request is about to be sent. */
  record ModelRequested(int step, String model, long reservedMicros) implements RunEvent {
    @Override
    public String type() {
      return "model.requested";
    }
  }

  /** A model answered; the answer is recorded before anything acts on it. */
  record ModelResponded(int step, ModelResponse response, long costMicros) implements RunEvent {
    @Override
    public String type() {
      return "model.responded";
    }
  }

  /** The loop decided what to do with an answer; a short structured summary, no hidden text. */
  record DecisionRecorded(int step, String action, JsonObject summary) implements RunEvent {
    @Override
    public String type() {
      return "decision.recorded";
    }
  }

  /** A tool call was proposed and the policy gave its verdict ({@code allow|deny|approval}). */
  record ToolCallProposed(
      int step,
      String callId,
      String tool,
      String toolVersion,
      JsonObject arguments,
      String verdict,
      String reason)
      implements RunEvent {
    @Override
    public String type() {
      return "tool.proposed";
    }
  }

  /** A person was asked to decide; kinds are {@code tool_call} and {@code outcome_unknown}. */
  record ApprovalRequested(
      String approvalId,
      String kind,
      String callId,
      String tool,
      JsonObject arguments,
      String argumentsHash,
      int riskLevel,
      String reason,
      Instant expiresAt)
      implements RunEvent {
    @Override
    public String type() {
      return "approval.requested";
    }
  }

  /** A decision ({@code approved|denied|expired}) reached the run. */
  record ApprovalResolved(
      String approvalId,
      String decision,
      String decidedBy,
      Optional<JsonObject> arguments,
      String comment,
      long signalSeq)
      implements RunEvent {
    @Override
    public String type() {
      return "approval.resolved";
    }
  }

  /** The intent of a tool call, durable before the tool runs. */
  record ToolCallStarted(String callId, String tool, String idempotencyKey, int attempt, long epoch)
      implements RunEvent {
    @Override
    public String type() {
      return "tool.started";
    }
  }

  /** A tool call's result. */
  record ToolCallSucceeded(String callId, JsonValue data) implements RunEvent {
    @Override
    public String type() {
      return "tool.succeeded";
    }
  }

  /** A tool call failed, or was denied or never approved. */
  record ToolCallFailed(String callId, String errorType, boolean retryable, String message)
      implements RunEvent {
    @Override
    public String type() {
      return "tool.failed";
    }
  }

  /** A non-idempotent call may or may not have happened; {@code policy} decides what follows. */
  record ToolOutcomeUnknown(String callId, UnknownOutcomePolicy policy, String compensationTool)
      implements RunEvent {
    @Override
    public String type() {
      return "tool.outcome_unknown";
    }
  }

  /** A checkpoint of the state through {@code throughSeq} was written. */
  record CheckpointSaved(int step, long throughSeq, String hash) implements RunEvent {
    @Override
    public String type() {
      return "checkpoint.saved";
    }
  }

  /** A budget limit stopped the run; {@code limit} is its API name, such as {@code max_steps}. */
  record BudgetExceeded(String limit, String detail) implements RunEvent {
    @Override
    public String type() {
      return "budget.exceeded";
    }
  }

  /** The run waits for something from outside. */
  record RunWaiting(String reason) implements RunEvent {
    @Override
    public String type() {
      return "run.waiting";
    }
  }

  /** A person paused the run. */
  record RunPaused(long signalSeq) implements RunEvent {
    @Override
    public String type() {
      return "run.paused";
    }
  }

  /** A person resumed the run, optionally with an input (an answer). */
  record RunResumed(JsonValue input, long signalSeq) implements RunEvent {
    @Override
    public String type() {
      return "run.resumed";
    }
  }

  /** A new user message or instruction arrived mid-run. */
  record MessageReceived(String content, long signalSeq) implements RunEvent {
    @Override
    public String type() {
      return "message.received";
    }
  }

  /** The final output was recorded; the run completes next. */
  record OutputRecorded(JsonObject output) implements RunEvent {
    @Override
    public String type() {
      return "output.recorded";
    }
  }

  /** The run completed. */
  record RunCompleted() implements RunEvent {
    @Override
    public String type() {
      return "run.completed";
    }
  }

  /** The run failed with a stable {@code code}. */
  record RunFailed(String code, String message) implements RunEvent {
    @Override
    public String type() {
      return "run.failed";
    }
  }

  /** A person cancelled the run. */
  record RunCancelled(String reason, long signalSeq) implements RunEvent {
    @Override
    public String type() {
      return "run.cancelled";
    }
  }

  /** A deadline or budget ended the run; {@code limit} names it. */
  record RunTimedOut(String limit, String message) implements RunEvent {
    @Override
    public String type() {
      return "run.timed_out";
    }
  }

  /**
   * The plan was set: by the agent ({@code callId} names its {@code keel.update_plan} call) or by a
   * person ({@code signalSeq} names the signal). {@code plan} is {@link Plan#toJson()}.
   */
  record PlanUpdated(int step, String callId, JsonObject plan, String by, long signalSeq)
      implements RunEvent {
    @Override
    public String type() {
      return "plan.updated";
    }
  }

  /**
   * The agent proposed its final answer ({@code keel.finish}, or text with no calls when {@code
   * callId} is empty); it becomes the output once the output contract and reflection pass.
   */
  record AnswerDrafted(int step, String callId, String text, JsonObject data) implements RunEvent {
    @Override
    public String type() {
      return "answer.drafted";
    }
  }

  /**
   * A draft answer was checked. {@code check} is {@code contract} (the output schema) or {@code
   * reflection} (the acceptance criteria); {@code result} is {@code {passed, issues, next_action}};
   * a reflection's model call is counted in {@code usage} and {@code costMicros}.
   */
  record OutputChecked(
      String check,
      int attempt,
      boolean passed,
      JsonObject result,
      dev.keel.model.TokenUsage usage,
      long costMicros)
      implements RunEvent {
    @Override
    public String type() {
      return "output.checked";
    }
  }

  /**
   * The agent started a sub-agent run: {@code childRunId} (derived from this run and the call, so a
   * retry finds the same child) of {@code agent} at {@code agentVersion}, with {@code budget}
   * carved from this run's remaining budget. The call stays open until {@link SubrunFinished}.
   */
  record SubrunSpawned(
      int step,
      String callId,
      String childRunId,
      String agent,
      String agentVersion,
      String goal,
      JsonObject budget)
      implements RunEvent {
    @Override
    public String type() {
      return "subrun.spawned";
    }
  }

  /**
   * A sub-agent run ended with {@code status}; {@code result} is its output or error (a failure
   * reaches the parent as a value), {@code usage} its usage, added to the parent's.
   */
  record SubrunFinished(
      String callId, String childRunId, String status, JsonObject result, JsonObject usage)
      implements RunEvent {
    @Override
    public String type() {
      return "subrun.finished";
    }
  }

  /**
   * The agent reported candidates ({@code keel.choose}) and exactly one reached the agent's
   * ambiguity threshold, so it was chosen without asking a person. {@code arguments} are the
   * call's; {@code chosen} is the candidate's value.
   */
  record CandidateChosen(
      int step, String callId, JsonObject arguments, JsonValue chosen, String confidence)
      implements RunEvent {
    @Override
    public String type() {
      return "candidate.chosen";
    }
  }
}
