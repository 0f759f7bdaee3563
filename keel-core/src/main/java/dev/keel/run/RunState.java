package dev.keel.run;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import dev.keel.model.Message;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.RunEvent.ApprovalRequested;
import dev.keel.run.RunEvent.ApprovalResolved;
import dev.keel.run.RunEvent.BudgetExceeded;
import dev.keel.run.RunEvent.DecisionRecorded;
import dev.keel.run.RunEvent.MessageReceived;
import dev.keel.run.RunEvent.ModelRequested;
import dev.keel.run.RunEvent.ModelResponded;
import dev.keel.run.RunEvent.OutputRecorded;
import dev.keel.run.RunEvent.RunCancelled;
import dev.keel.run.RunEvent.RunCompleted;
import dev.keel.run.RunEvent.RunCreated;
import dev.keel.run.RunEvent.RunFailed;
import dev.keel.run.RunEvent.RunPaused;
import dev.keel.run.RunEvent.RunResumed;
import dev.keel.run.RunEvent.RunStarted;
import dev.keel.run.RunEvent.RunTimedOut;
import dev.keel.run.RunEvent.RunWaiting;
import dev.keel.run.RunEvent.ToolCallFailed;
import dev.keel.run.RunEvent.ToolCallProposed;
import dev.keel.run.RunEvent.ToolCallStarted;
import dev.keel.run.RunEvent.ToolCallSucceeded;
import dev.keel.run.RunEvent.ToolOutcomeUnknown;
import dev.keel.run.ToolCallState.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A run's state: the fold of its events. Nothing else changes it, so a checkpoint (a cached fold)
 * and a replay of the log always agree.
 *
 * <p>Implementation notes. The fold keeps the conversation exactly as a provider needs it: an
 * assistant message with tool calls is followed by the results of those calls and only then by new
 * user messages. Messages that arrive while calls are open wait in {@code inbox} and join the
 * conversation when the next model call is requested. The chain hash is advanced for every event,
 * so the state also proves which history it was folded from.
 *
 * @param header the parts fixed at creation
 * @param status the lifecycle status
 * @param phase what the run is doing within its status
 * @param step the number of model steps begun
 * @param lastSeq the sequence of the last event folded
 * @param lastEpoch the lease epoch of the last event folded
 * @param chainHash the event chain hash through {@code lastSeq}
 * @param signalsConsumed the highest signal sequence the run has consumed
 * @param usage what the run has used
 * @param messages the conversation so far
 * @param inbox user messages waiting for the current step's tool calls to settle
 * @param pendingModel a model call recorded as requested with no recorded answer
 * @param calls the current step's tool calls, in the model's order
 * @param approvals the approvals the run waits on
 * @param finalAnswer the text of an answer with no tool calls, not yet recorded as output
 * @param output the final output, once recorded
 * @param error why the run failed, if it did
 * @param lastCheckpointStep the step of the last checkpoint, 0 if none
 * @param lastCheckpointHash the hash of the last checkpoint
 * @param loop the agent loop's plan, draft answer and check counters
 */
public record RunState(
    RunHeader header,
    RunStatus status,
    RunPhase phase,
    int step,
    long lastSeq,
    long lastEpoch,
    String chainHash,
    long signalsConsumed,
    Usage usage,
    List<Message> messages,
    List<Message> inbox,
    Optional<ModelRequested> pendingModel,
    List<ToolCallState> calls,
    List<PendingApproval> approvals,
    Optional<String> finalAnswer,
    Optional<JsonObject> output,
    Optional<RunError> error,
    int lastCheckpointStep,
    String lastCheckpointHash,
    LoopState loop) {

  /** Copies the lists and checks every field is present. */
  public RunState {
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(chainHash, "chainHash");
    Objects.requireNonNull(usage, "usage");
    messages = List.copyOf(messages);
    inbox = List.copyOf(inbox);
    Objects.requireNonNull(pendingModel, "pendingModel");
    calls = List.copyOf(calls);
    approvals = List.copyOf(approvals);
    Objects.requireNonNull(finalAnswer, "finalAnswer");
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(lastCheckpointHash, "lastCheckpointHash");
    Objects.requireNonNull(loop, "loop");
  }

  /** The run's id. */
  public RunId runId() {
    return header.runId();
  }

  /** Folds a whole log, which must start with {@link RunCreated}. */
  public static RunState fold(List<EventEnvelope> events) {
    if (events.isEmpty()) {
      throw new IllegalArgumentException("a run's log cannot be empty");
    }
    RunState state = initial(events.getFirst());
    for (EventEnvelope e : events.subList(1, events.size())) {
      state = state.apply(e);
    }
    return state;
  }

  /** The state after the first event, which must be {@link RunCreated} with sequence 1. */
  public static RunState initial(EventEnvelope first) {
    return initial(first, Hashes.chain(Hashes.GENESIS, first));
  }

  /**
   * The state after {@code first}, whose chain hash the caller has just computed as {@code hash}
   * (so the event is not encoded and hashed again).
   */
  public static RunState initial(EventEnvelope first, String hash) {
    if (!(first.event() instanceof RunCreated c) || first.seq() != 1) {
      throw new IllegalArgumentException(
          "a run's log must start with run.created at seq 1, got "
              + first.event().type()
              + " at "
              + first.seq());
    }
    RunHeader header =
        new RunHeader(
            first.runId(),
            c.tenant(),
            c.agentName(),
            c.agentVersion(),
            c.input(),
            c.budget(),
            c.channel(),
            c.threadId(),
            c.parentRunId(),
            c.metadata(),
            first.at(),
            c.versions(),
            c.createdBy());
    List<Message> messages = new ArrayList<>();
    if (c.fork().isPresent()) {
      // A fork continues the source's conversation as of its checkpoint; its counters start anew.
      JsonObject fork = c.fork().get();
      messages.addAll(
          StateCodec.readMessages(
              fork.get("messages")
                  .filter(JsonValue.JsonArray.class::isInstance)
                  .map(v -> ((JsonValue.JsonArray) v).items())
                  .orElse(List.of())));
      fork.string("instruction")
          .filter(t -> !t.isBlank())
          .ifPresent(t -> messages.add(new Message.User(t)));
    } else {
      c.input()
          .string("goal")
          .filter(g -> !g.isBlank())
          .ifPresent(g -> messages.add(new Message.User(g)));
      c.input()
          .get("messages")
          .filter(JsonValue.JsonArray.class::isInstance)
          .ifPresent(
              a -> {
                for (JsonValue m : ((JsonValue.JsonArray) a).items()) {
                  if (m instanceof JsonObject o) {
                    o.string("content").ifPresent(t -> messages.add(new Message.User(t)));
                  } else if (m instanceof JsonString s) {
                    messages.add(new Message.User(s.value()));
                  }
                }
              });
    }
    return new RunState(
        header,
        RunStatus.QUEUED,
        RunPhase.NONE,
        0,
        1,
        first.epoch(),
        hash,
        0,
        Usage.ZERO,
        messages,
        List.of(),
        Optional.empty(),
        List.of(),
        List.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        0,
        Hashes.GENESIS,
        LoopState.INITIAL);
  }

  /** Returns the state after {@code e}, which must be the next event of this run. */
  public RunState apply(EventEnvelope e) {
    return apply(e, EventCodec.encode(e.event()));
  }

  /**
   * Returns the state after {@code e}, which must be the next event of this run, given the event's
   * payload as {@link EventCodec#encode} gives it (so a caller that also stores it encodes once).
   */
  public RunState apply(EventEnvelope e, String payload) {
    if (!e.runId().equals(header.runId())) {
      throw new IllegalArgumentException("event of " + e.runId() + " applied to " + header.runId());
    }
    if (e.seq() != lastSeq + 1) {
      throw new IllegalArgumentException(
          "event seq " + e.seq() + " does not follow " + lastSeq + " in " + header.runId());
    }
    if (e.epoch() < lastEpoch) {
      throw new IllegalArgumentException(
          "event epoch " + e.epoch() + " is older than " + lastEpoch + " in " + header.runId());
    }
    Builder b = new Builder(this);
    b.lastSeq = e.seq();
    b.lastEpoch = e.epoch();
    b.chainHash = Hashes.chain(chainHash, e, payload);
    b.apply(e.event());
    return b.build();
  }

  /** The call with {@code callId} in the current step, if any. */
  public Optional<ToolCallState> call(String callId) {
    return calls.stream().filter(c -> c.callId().equals(callId)).findFirst();
  }

  /** Whether every call of the current step is settled (true when there are none). */
  public boolean callsSettled() {
    return calls.stream().allMatch(c -> c.status().settled());
  }

  /** The mutable working copy of one fold step. */
  private static final class Builder {
    private final RunHeader header;
    private RunStatus status;
    private RunPhase phase;
    private int step;
    private long lastSeq;
    private long lastEpoch;
    private String chainHash;
    private long signalsConsumed;
    private Usage usage;
    private List<Message> messages;
    private final List<Message> inbox;
    private Optional<ModelRequested> pendingModel;
    private final List<ToolCallState> calls;
    private final List<PendingApproval> approvals;
    private Optional<String> finalAnswer;
    private Optional<JsonObject> output;
    private Optional<RunError> error;
    private int lastCheckpointStep;
    private String lastCheckpointHash;
    private LoopState loop;

    Builder(RunState s) {
      header = s.header;
      status = s.status;
      phase = s.phase;
      step = s.step;
      lastSeq = s.lastSeq;
      lastEpoch = s.lastEpoch;
      chainHash = s.chainHash;
      signalsConsumed = s.signalsConsumed;
      usage = s.usage;
      messages = s.messages;
      inbox = new ArrayList<>(s.inbox);
      pendingModel = s.pendingModel;
      calls = new ArrayList<>(s.calls);
      approvals = new ArrayList<>(s.approvals);
      finalAnswer = s.finalAnswer;
      output = s.output;
      error = s.error;
      lastCheckpointStep = s.lastCheckpointStep;
      lastCheckpointHash = s.lastCheckpointHash;
      loop = s.loop;
    }

    void to(RunStatus next) {
      status = RunLifecycle.check(status, next);
    }

    void apply(RunEvent event) {
      switch (event) {
        case RunCreated c -> throw new IllegalArgumentException("run.created may only come first");
        case RunStarted s -> {
          to(RunStatus.RUNNING);
          phase = RunPhase.PLANNING;
        }
        case ModelRequested r -> {
          List<Message> next = new ArrayList<>(messages);
          for (ToolCallState c : calls) {
            if (!c.providerCallId().isEmpty()) {
              next.add(
                  new Message.ToolResult(
                      c.providerCallId(),
                      c.tool(),
                      c.result().orElse(JsonValue.NULL),
                      c.status() != Status.SUCCEEDED));
            }
          }
          next.addAll(inbox);
          inbox.clear();
          calls.clear();
          messages = next;
          pendingModel = Optional.of(r);
          step = r.step();
          phase = RunPhase.WAITING_FOR_MODEL;
        }
        case ModelResponded r -> {
          List<Message> next = new ArrayList<>(messages);
          next.add(new Message.Assistant(r.response().text(), r.response().toolCalls()));
          messages = next;
          pendingModel = Optional.empty();
          usage = usage.plusModelCall(r.response().usage(), r.costMicros());
          if (r.response().toolCalls().isEmpty()) {
            finalAnswer = Optional.of(r.response().text());
            loop = loop.withDraft(Optional.empty(), "");
          }
          phase = RunPhase.PLANNING;
        }
        case DecisionRecorded d -> {
          // A summary for audit; the decision's effects are the events that follow it.
        }
        case ToolCallProposed p -> {
          Status s =
              switch (p.verdict()) {
                case "allow" -> Status.READY;
                case "approval" -> Status.AWAITING_APPROVAL;
                default -> Status.FAILED;
              };
          ToolCallState call =
              new ToolCallState(
                  p.callId(),
                  providerIdFor(p.callId()),
                  p.step(),
                  p.tool(),
                  p.toolVersion(),
                  p.arguments(),
                  s,
                  Optional.empty(),
                  0,
                  0,
                  s == Status.FAILED
                      ? Optional.of(errorJson("denied", false, p.reason()))
                      : Optional.empty());
          calls.add(call);
        }
        case ApprovalRequested a -> {
          approvals.add(
              new PendingApproval(
                  a.approvalId(), a.kind(), a.callId(), a.argumentsHash(), a.expiresAt()));
          replaceCall(a.callId(), c -> c.awaiting(a.approvalId()));
        }
        case ApprovalResolved r -> resolveApproval(r);
        case ToolCallStarted s -> {
          replaceCall(s.callId(), c -> c.started(s.attempt(), s.epoch()));
          if (s.attempt() == 1) {
            usage = usage.plusToolCall();
          }
          phase = RunPhase.RUNNING_TOOL;
        }
        case ToolCallSucceeded s -> {
          replaceCall(s.callId(), c -> c.settled(Status.SUCCEEDED, s.data()));
          phase = RunPhase.PLANNING;
        }
        case ToolCallFailed f -> {
          replaceCall(
              f.callId(),
              c -> c.settled(Status.FAILED, errorJson(f.errorType(), f.retryable(), f.message())));
          phase = RunPhase.PLANNING;
        }
        case ToolOutcomeUnknown u -> unknownOutcome(u);
        case RunEvent.CheckpointSaved c -> {
          lastCheckpointStep = c.step();
          lastCheckpointHash = c.hash();
        }
        case BudgetExceeded b -> {
          // The run ends with run.timed_out in the same commit.
        }
        case RunWaiting w -> {
          to(RunStatus.WAITING);
          phase = RunPhase.WAITING_FOR_HUMAN;
        }
        case RunPaused p -> {
          signalsConsumed = Math.max(signalsConsumed, p.signalSeq());
          to(RunStatus.PAUSED);
          phase = RunPhase.NONE;
        }
        case RunResumed r -> {
          signalsConsumed = Math.max(signalsConsumed, r.signalSeq());
          to(RunStatus.RUNNING);
          phase = RunPhase.PLANNING;
          if (r.input() instanceof JsonString text && !text.value().isBlank()) {
            inbox.add(new Message.User(text.value()));
          } else if (r.input() instanceof JsonObject o) {
            o.string("text")
                .filter(t -> !t.isBlank())
                .ifPresent(t -> inbox.add(new Message.User(t)));
          }
        }
        case MessageReceived m -> {
          signalsConsumed = Math.max(signalsConsumed, m.signalSeq());
          inbox.add(new Message.User(m.content()));
          if (status == RunStatus.WAITING && approvals.isEmpty()) {
            to(RunStatus.RUNNING);
          }
        }
        case OutputRecorded o -> {
          output = Optional.of(o.output());
          finalAnswer = Optional.empty();
        }
        case RunCompleted c -> {
          to(RunStatus.COMPLETED);
          phase = RunPhase.NONE;
        }
        case RunFailed f -> {
          to(RunStatus.FAILED);
          error = Optional.of(new RunError(f.code(), f.message()));
          phase = RunPhase.NONE;
        }
        case RunCancelled c -> {
          signalsConsumed = Math.max(signalsConsumed, c.signalSeq());
          to(RunStatus.CANCELLED);
          error = Optional.of(new RunError("cancelled", c.reason()));
          phase = RunPhase.NONE;
        }
        case RunTimedOut t -> {
          to(RunStatus.TIMED_OUT);
          error = Optional.of(new RunError("budget_exceeded", t.limit() + ": " + t.message()));
          phase = RunPhase.NONE;
        }
        case RunEvent.PlanUpdated p -> {
          signalsConsumed = Math.max(signalsConsumed, p.signalSeq());
          Plan plan = Plan.fromJson(p.plan());
          loop = loop.withPlan(plan);
          if (!p.callId().isEmpty()) {
            calls.add(
                pseudoCall(
                    p.callId(),
                    p.step(),
                    "keel.update_plan",
                    p.plan(),
                    JsonValue.object("ok", true, "revision", (long) plan.revision())));
          }
        }
        case RunEvent.CandidateChosen c ->
            calls.add(
                pseudoCall(
                    c.callId(),
                    c.step(),
                    "keel.choose",
                    c.arguments(),
                    JsonValue.object(
                        "chosen", c.chosen(), "confidence", c.confidence(), "chosen_by", "agent")));
        case RunEvent.AnswerDrafted a -> {
          finalAnswer = Optional.of(a.text());
          loop = loop.withDraft(Optional.of(a.data()), a.callId());
          if (!a.callId().isEmpty()) {
            calls.add(
                pseudoCall(
                    a.callId(),
                    a.step(),
                    "keel.finish",
                    JsonValue.object("text", a.text(), "data", a.data()),
                    JsonValue.object("ok", true)));
          }
        }
        case RunEvent.OutputChecked c -> outputChecked(c);
        case RunEvent.SubrunSpawned x -> {
          ToolCallState call =
              new ToolCallState(
                  x.callId(),
                  providerIdFor(x.callId()),
                  x.step(),
                  SPAWN_TOOL,
                  "",
                  JsonValue.object(
                      "agent", x.agent(), "goal", x.goal(), "child_run_id", x.childRunId()),
                  Status.AWAITING_APPROVAL,
                  Optional.empty(),
                  0,
                  0,
                  Optional.empty());
          calls.add(call);
        }
        case RunEvent.SubrunFinished x -> subrunFinished(x);
      }
    }

    private ToolCallState pseudoCall(
        String callId, int callStep, String tool, JsonObject arguments, JsonValue result) {
      return new ToolCallState(
          callId,
          providerIdFor(callId),
          callStep,
          tool,
          "",
          arguments,
          Status.SUCCEEDED,
          Optional.empty(),
          0,
          0,
          Optional.of(result));
    }

    private void subrunFinished(RunEvent.SubrunFinished x) {
      if (calls.stream().noneMatch(c -> c.callId().equals(x.callId()) && !c.status().settled())) {
        return;
      }
      JsonFields u = JsonFields.of(x.usage(), "sub-agent usage");
      usage =
          new Usage(
              usage.modelCalls() + u.integer("model_calls"),
              usage.toolCalls() + u.integer("tool_calls"),
              usage.inputTokens() + u.num("input_tokens"),
              usage.outputTokens() + u.num("output_tokens"),
              usage.costMicros() + u.num("cost_micros"));
      JsonObject value =
          JsonValue.object("child_run_id", x.childRunId(), "status", x.status())
              .with("result", x.result());
      replaceCall(
          x.callId(),
          c ->
              x.status().equals("completed")
                  ? c.settled(Status.SUCCEEDED, value)
                  : c.settled(
                      Status.FAILED,
                      errorJson(
                              "subrun_" + x.status(),
                              false,
                              "the sub-agent run " + x.childRunId() + " ended " + x.status())
                          .with("subrun", value)));
      boolean waiting =
          calls.stream().anyMatch(c -> c.tool().equals(SPAWN_TOOL) && !c.status().settled());
      if (!waiting && approvals.isEmpty() && status == RunStatus.WAITING) {
        to(RunStatus.RUNNING);
        phase = RunPhase.PLANNING;
      }
    }

    private void outputChecked(RunEvent.OutputChecked c) {
      boolean reflection = c.check().equals("reflection");
      if (reflection) {
        usage = usage.plusModelCall(c.usage(), c.costMicros());
      }
      if (c.passed()) {
        loop = reflection ? loop.reflected(true) : loop;
        return;
      }
      String callId = loop.draftCallId();
      boolean profile = c.check().equals("profile");
      String type =
          reflection ? "acceptance_failed" : profile ? "profile_violated" : "output_invalid";
      String message =
          (reflection
                  ? "the draft answer does not meet the acceptance criteria: "
                  : profile
                      ? "the answer does not fit the channel's response profile: "
                      : "the answer does not match the output contract: ")
              + c.result().get("issues").map(Object::toString).orElse("[]")
              + "; fix it and finish again";
      if (!callId.isEmpty() && calls.stream().anyMatch(x -> x.callId().equals(callId))) {
        replaceCall(callId, x -> x.settled(Status.FAILED, errorJson(type, true, message)));
      } else {
        inbox.add(new Message.User(message));
      }
      finalAnswer = Optional.empty();
      loop = reflection ? loop.reflected(false) : loop.repaired();
    }

    private String providerIdFor(String callId) {
      // The provider's id of the call is the one in the last assistant message at the same index.
      if (messages.getLast() instanceof Message.Assistant a) {
        int index = callIndex(callId);
        if (index >= 0 && index < a.toolCalls().size()) {
          ToolCallRequest r = a.toolCalls().get(index);
          return r.id();
        }
      }
      return "";
    }

    private void resolveApproval(ApprovalResolved r) {
      signalsConsumed = Math.max(signalsConsumed, r.signalSeq());
      Optional<PendingApproval> pending =
          approvals.stream().filter(a -> a.approvalId().equals(r.approvalId())).findFirst();
      if (pending.isEmpty()) {
        return;
      }
      approvals.remove(pending.get());
      String callId = pending.get().callId();
      if (pending.get().kind().equals("question")) {
        answerQuestion(r, callId);
        if (approvals.isEmpty() && status == RunStatus.WAITING) {
          to(RunStatus.RUNNING);
          phase = RunPhase.PLANNING;
        }
        return;
      }
      boolean unknownKind = pending.get().kind().equals("outcome_unknown");
      switch (r.decision()) {
        case "approved" ->
            replaceCall(
                callId,
                c -> {
                  ToolCallState ready = c.withStatus(Status.READY);
                  return r.arguments().map(ready::withArguments).orElse(ready);
                });
        case "denied" ->
            replaceCall(
                callId,
                c ->
                    c.settled(
                        Status.FAILED,
                        errorJson(
                            unknownKind ? "outcome_unknown" : "approval_denied",
                            false,
                            (unknownKind
                                    ? "the outcome was unknown and a person chose not to retry"
                                    : "a person denied the call")
                                + (r.comment().isEmpty() ? "" : ": " + r.comment()))));
        default ->
            replaceCall(
                callId,
                c ->
                    c.settled(
                        Status.FAILED,
                        errorJson(
                            "approval_expired",
                            false,
                            "nobody decided before the approval expired")));
      }
      if (approvals.isEmpty() && status == RunStatus.WAITING) {
        to(RunStatus.RUNNING);
        phase = RunPhase.PLANNING;
      }
    }

    private void answerQuestion(ApprovalResolved r, String callId) {
      Optional<JsonValue> toolData = call(callId).result();
      if (toolData.isPresent() && toolData.get() instanceof JsonObject data) {
        // A tool reported ambiguous candidates: its data stays, the person's choice joins it.
        JsonValue chosen =
            r.decision().equals("approved")
                ? r.arguments()
                    .flatMap(a -> a.get("answer"))
                    .orElse(r.comment().isEmpty() ? JsonValue.NULL : JsonValue.of(r.comment()))
                : JsonValue.NULL;
        JsonObject merged =
            data.with("chosen", chosen)
                .with(
                    "chosen_by",
                    JsonValue.of(
                        switch (r.decision()) {
                          case "approved" -> r.decidedBy();
                          case "denied" -> "nobody: a person declined to choose";
                          default -> "nobody: the question expired";
                        }));
        replaceCall(callId, c -> c.settled(Status.SUCCEEDED, merged));
        return;
      }
      switch (r.decision()) {
        case "approved" -> {
          JsonValue answer =
              r.arguments()
                  .flatMap(a -> a.get("answer"))
                  .orElse(r.comment().isEmpty() ? JsonValue.NULL : JsonValue.of(r.comment()));
          replaceCall(
              callId,
              c ->
                  c.settled(
                      Status.SUCCEEDED,
                      JsonValue.object("answer", answer, "answered_by", r.decidedBy())));
        }
        case "denied" ->
            replaceCall(
                callId,
                c ->
                    c.settled(
                        Status.FAILED,
                        errorJson(
                            "question_declined",
                            false,
                            "a person declined to answer"
                                + (r.comment().isEmpty() ? "" : ": " + r.comment()))));
        default ->
            replaceCall(
                callId,
                c ->
                    c.settled(
                        Status.FAILED,
                        errorJson("question_expired", false, "nobody answered before it expired")));
      }
    }

    private void unknownOutcome(ToolOutcomeUnknown u) {
      switch (u.policy()) {
        case ASK_PERSON, FAIL -> replaceCall(u.callId(), c -> c.withStatus(Status.UNKNOWN));
        case COMPENSATE -> {
          // The original call is settled as failed; its compensation runs as an internal call
          // (no provider id, so its result never reaches the model as an answer to a call).
          ToolCallState original = call(u.callId());
          replaceCall(
              u.callId(),
              c ->
                  c.settled(
                      Status.FAILED,
                      errorJson(
                          "outcome_unknown",
                          false,
                          "the outcome was unknown; the tool's compensation was run")));
          calls.add(
              new ToolCallState(
                  u.callId() + "_comp",
                  "",
                  original.step(),
                  u.compensationTool(),
                  "",
                  original.arguments(),
                  Status.READY,
                  Optional.empty(),
                  0,
                  0,
                  Optional.empty()));
        }
      }
    }

    private ToolCallState call(String callId) {
      return calls.stream()
          .filter(c -> c.callId().equals(callId))
          .findFirst()
          .orElseThrow(
              () -> new IllegalArgumentException("no call " + callId + " in " + header.runId()));
    }

    private void replaceCall(String callId, java.util.function.UnaryOperator<ToolCallState> f) {
      ToolCallState c = call(callId);
      calls.set(calls.indexOf(c), f.apply(c));
    }

    RunState build() {
      return new RunState(
          header,
          status,
          phase,
          step,
          lastSeq,
          lastEpoch,
          chainHash,
          signalsConsumed,
          usage,
          messages,
          inbox,
          pendingModel,
          calls,
          approvals,
          finalAnswer,
          output,
          error,
          lastCheckpointStep,
          lastCheckpointHash,
          loop);
    }
  }

  /** The pseudo-tool whose calls wait for a sub-agent run. */
  public static final String SPAWN_TOOL = "keel.spawn_agent";

  /** The sub-agent calls still waiting for their child run. */
  public List<ToolCallState> pendingSubruns() {
    return calls.stream()
        .filter(c -> c.tool().equals(SPAWN_TOOL) && !c.status().settled())
        .toList();
  }

  /** The index of a call within its step, from its id {@code call_<step>_<index>}. */
  static int callIndex(String callId) {
    String[] parts = callId.split("_");
    if (parts.length < 3) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[2]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The id Keel gives the {@code index}-th call of {@code step}. */
  public static String callId(int step, int index) {
    return "call_" + step + "_" + index;
  }

  /** The normalized error shape a failed call gives the model. */
  public static JsonObject errorJson(String type, boolean retryable, String message) {
    return JsonValue.object(
        "error", JsonValue.object("type", type, "retryable", retryable, "message", message));
  }
}
