package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.ModelException;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventEnvelope;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.run.StateCodec;
import dev.keel.run.ToolCallState;
import dev.keel.store.Append;
import dev.keel.store.Checkpoint;
import dev.keel.store.Disposition;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.Loaded;
import dev.keel.store.RecordedEvent;
import dev.keel.store.Signal;
import dev.keel.store.SignalPayload;
import dev.keel.store.StoreException;
import dev.keel.tool.Idempotency;
import dev.keel.tool.PolicyVerdict;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One worker's hold on one run: load, decide, record, act, checkpoint, until the run is released,
 * ends, or the lease is lost.
 *
 * <p>Implementation notes. Events are recorded into a pending batch and folded at once; the batch
 * is committed (one fenced append) immediately before every effect — a model call or a tool call —
 * and whenever the run is released. So an intent is durable before its effect, and a step with one
 * tool call costs two commits: the model's answer with the tool intent, then the tool result with
 * the next model request. The result of a tool that is not idempotent is committed at once, so the
 * window in which its outcome can be lost is as short as it can be.
 *
 * <p>A commit whose outcome is unknown (the store threw) is reconciled by reading the log back: if
 * the batch is there it was committed; if not, it is sent again; the fencing condition on the
 * expected last sequence makes the retry safe. Before every side effect the lease is checked
 * against a local monotonic deadline derived from the store's answer, so a worker that was paused
 * past its lease learns it lost the run before starting anything new.
 */
public final class RunExecution {
  private static final int MODEL_ATTEMPTS = 3;
  private static final int STORE_ATTEMPTS = 4;

  private final Engine e;
  private final RunId runId;
  private Lease lease;
  private volatile RunState state;
  private RunState durableState;
  private long durableSeq;
  private final List<RecordedEvent> pending = new ArrayList<>();
  private final Set<String> invoked = new HashSet<>();
  private final Map<String, RunEvent> unrecordedResults = new HashMap<>();
  private long leaseDeadlineNanos;
  private volatile boolean leaseLost;
  private volatile boolean draining;
  private volatile long knownSignalSeq;
  private volatile @org.jspecify.annotations.Nullable Thread toolThread;
  private volatile boolean cancelInFlight;

  private RunExecution(Engine e, Lease lease, RunState state, long requestedAtNanos) {
    this.e = e;
    this.runId = lease.runId();
    this.lease = lease;
    this.state = state;
    this.durableState = state;
    this.durableSeq = state.lastSeq();
    this.knownSignalSeq = lease.signalSeq();
    this.leaseDeadlineNanos = requestedAtNanos + safeLeaseNanos();
  }

  /**
   * Loads the run of {@code lease} from its newest checkpoint and later events.
   *
   * @param requestedAtNanos {@link System#nanoTime()} read before the claim was sent
   */
  public static RunExecution load(Engine e, Lease lease, long requestedAtNanos) {
    Loaded loaded = e.store().load(lease.runId());
    return new RunExecution(e, lease, rebuild(loaded), requestedAtNanos);
  }

  private static RunState rebuild(Loaded loaded) {
    RunState s;
    List<EventEnvelope> events = loaded.events();
    if (loaded.checkpoint().isPresent()) {
      s = loaded.checkpoint().get().state();
    } else {
      s = RunState.initial(events.getFirst());
      events = events.subList(1, events.size());
    }
    for (EventEnvelope env : events) {
      s = s.apply(env);
    }
    return s;
  }

  /** The run this execution advances. */
  public RunId runId() {
    return runId;
  }

  /** The state as folded so far (including events not yet committed). */
  public RunState state() {
    return state;
  }

  /**
   * Gives the run back after this execution failed unexpectedly: a fenced release with no events,
   * as of the last committed write, so any worker can continue at once instead of the run sitting
   * under a lease this worker's heartbeat would keep renewing. Events not yet committed are
   * dropped; the next owner settles them from the log (an intent without a result follows the
   * tool's policy). Best effort: if the store refuses or fails, the lease lapses or stays fenced.
   */
  public void handBack() {
    try {
      e.store()
          .append(
              new Append(
                  lease,
                  durableSeq,
                  List.of(),
                  durableState,
                  Optional.empty(),
                  new Disposition.Release(Optional.of(e.store().now())),
                  e.config().leaseTime()));
    } catch (RuntimeException ignored) {
      // nothing more can be done here; the lease is fenced or will lapse
    }
  }

  /** Asks the execution to hand the run back at its next step boundary. */
  public void drain() {
    draining = true;
  }

  /** Tells the execution what the heartbeat learned: a renewed lease and the newest signal. */
  void renewed(Lease renewed, long requestedAtNanos) {
    if (renewed.epoch() == lease.epoch()) {
      leaseDeadlineNanos = Math.max(leaseDeadlineNanos, requestedAtNanos + safeLeaseNanos());
      knownSignalSeq = Math.max(knownSignalSeq, renewed.signalSeq());
    }
  }

  /**
   * Called by the heartbeat when the run has a signal this execution has not consumed: if it is a
   * cancellation and a tool call is in flight, the call is interrupted so the run can stop now.
   */
  void cancelIfSignalled() {
    Thread t = toolThread;
    if (t == null) {
      return;
    }
    boolean cancel =
        e.store().signals(runId, state.signalsConsumed()).stream()
            .anyMatch(sig -> sig.payload() instanceof SignalPayload.Cancel);
    if (cancel) {
      cancelInFlight = true;
      t.interrupt();
    }
  }

  private long safeLeaseNanos() {
    // Act only within the first 80% of the lease; the rest absorbs clock-rate drift and GC.
    return e.config().leaseTime().toNanos() * 4 / 5;
  }

  /**
   * Advances until the run is released, ends, or the lease is lost.
   *
   * @throws LeaseLostException if another worker took the run over; nothing more was written
   */
  public void run() throws InterruptedException {
    while (advance()) {
      // each advance records, commits or acts once
    }
  }

  /** Does one unit of work; false when this execution is finished with the run. */
  boolean advance() throws InterruptedException {
    if (draining && !state.status().terminal()) {
      flush(new Disposition.Release(Optional.of(e.store().now())), false);
      return false;
    }
    if (knownSignalSeq > state.signalsConsumed()) {
      consumeSignals();
    }
    AgentSpec agent = e.agentOf(state);
    Instant now = e.clock().instant();
    Next next = AgentLoop.decide(state, agent, e.pricing().apply(agent.model()), now);
    switch (next) {
      case Next.Done d -> {
        flush(Disposition.RELEASE, false);
        return false;
      }
      case Next.Start s -> {
        record(new RunEvent.RunStarted());
        flush(Disposition.KEEP, false);
      }
      case Next.RecordOutput o -> {
        record(
            new RunEvent.OutputRecorded(
                JsonValue.object("text", o.text(), "data", JsonValue.EMPTY_OBJECT)));
        flush(Disposition.KEEP, false);
      }
      case Next.Complete c -> {
        record(new RunEvent.RunCompleted());
        flush(Disposition.RELEASE, false);
        return false;
      }
      case Next.TimeOut t -> {
        record(new RunEvent.BudgetExceeded(t.limit(), t.detail()));
        record(new RunEvent.RunTimedOut(t.limit(), t.detail()));
        flush(Disposition.RELEASE, false);
        return false;
      }
      case Next.Wait w -> {
        if (w.reason().equals("approval") && state.status() != RunStatus.WAITING) {
          record(new RunEvent.RunWaiting(w.reason()));
        }
        flush(new Disposition.Release(w.readyAt()), false);
        return false;
      }
      case Next.ExpireApprovals x -> {
        flush(Disposition.KEEP, false);
        e.store().expireApprovals(runId);
        consumeSignals();
      }
      case Next.RequestModel r -> {
        if (state.step() - state.lastCheckpointStep() >= e.config().checkpointEvery()) {
          writeCheckpoint();
        }
        record(new RunEvent.ModelRequested(r.step(), agent.model(), r.reservedMicros()));
      }
      case Next.CallModel c -> callModel(agent);
      case Next.ExecuteTool x -> execute(x.call());
      case Next.ResumeStarted x -> resumeStarted(x.call());
      case Next.AskAboutUnknown x -> askAboutUnknown(x.call());
    }
    return true;
  }

  private void consumeSignals() {
    List<Signal> signals = e.store().signals(runId, state.signalsConsumed());
    for (Signal sig : signals) {
      if (state.status().terminal()) {
        return;
      }
      switch (sig.payload()) {
        case SignalPayload.Cancel c ->
            record(
                new RunEvent.RunCancelled(
                    c.reason().isEmpty() ? "cancelled by " + c.by() : c.reason(), sig.seq()));
        case SignalPayload.Pause p -> {
          if (state.status() != RunStatus.PAUSED) {
            record(new RunEvent.RunPaused(sig.seq()));
          } else {
            record(new RunEvent.RunResumed(JsonValue.NULL, sig.seq()));
            record(new RunEvent.RunPaused(sig.seq()));
          }
        }
        case SignalPayload.Resume r -> record(new RunEvent.RunResumed(r.input(), sig.seq()));
        case SignalPayload.UserMessage m ->
            record(new RunEvent.MessageReceived(m.content(), sig.seq()));
        case SignalPayload.ApprovalDecision d -> {
          e.faults().at(CrashPoint.B10_APPROVAL_DECIDED, runId);
          record(
              new RunEvent.ApprovalResolved(
                  d.approvalId(),
                  d.decision(),
                  d.decidedBy(),
                  d.arguments(),
                  d.comment(),
                  sig.seq()));
        }
      }
    }
  }

  private void callModel(AgentSpec agent) throws InterruptedException {
    flush(Disposition.KEEP, false);
    e.faults().at(CrashPoint.B3_BEFORE_MODEL_REQUEST, runId);
    ensureLease();
    RunEvent.ModelRequested requested = state.pendingModel().orElseThrow();
    ModelRequest request = AgentLoop.request(state, agent, toolSchemas(agent));
    ModelResponse response = null;
    for (int attempt = 1; response == null; attempt++) {
      try {
        response = e.model().complete(request);
      } catch (ModelException x) {
        if (!x.retryable() || attempt >= MODEL_ATTEMPTS) {
          record(new RunEvent.RunFailed("model_error", x.getMessage()));
          flush(Disposition.RELEASE, false);
          return;
        }
        Thread.sleep(x.retryAfter().map(java.time.Duration::toMillis).orElse(100L * attempt));
        ensureLease();
      }
    }
    e.faults().at(CrashPoint.B4_MODEL_RESPONSE_RECEIVED, runId);
    long cost = e.pricing().apply(agent.model()).costMicros(response.usage());
    int step = requested.step();
    record(new RunEvent.ModelResponded(step, response, cost));
    List<ToolCallRequest> calls = response.toolCalls();
    record(
        new RunEvent.DecisionRecorded(
            step,
            calls.isEmpty() ? "finish" : "call_tools",
            JsonValue.object(
                "tools", calls.stream().map(ToolCallRequest::name).toList(),
                "context",
                    JsonValue.object(
                        "messages", (long) request.messages().size(), "chain", state.chainHash()),
                "cost_micros", cost)));
    for (int i = 0; i < calls.size(); i++) {
      propose(step, i, calls.get(i), agent);
    }
  }

  private List<ModelRequest.ToolSchema> toolSchemas(AgentSpec agent) {
    List<ModelRequest.ToolSchema> out = new ArrayList<>();
    for (String name : agent.tools()) {
      e.tools()
          .find(name)
          .map(Tool::spec)
          .ifPresent(
              s ->
                  out.add(new ModelRequest.ToolSchema(s.name(), s.description(), s.inputSchema())));
    }
    return out;
  }

  private void propose(int step, int index, ToolCallRequest call, AgentSpec agent) {
    String callId = RunState.callId(step, index);
    Optional<Tool> tool =
        agent.tools().contains(call.name()) ? e.tools().find(call.name()) : Optional.empty();
    if (tool.isEmpty()) {
      record(
          new RunEvent.ToolCallProposed(
              step,
              callId,
              call.name(),
              "",
              call.arguments(),
              "deny",
              "tool '" + call.name() + "' is not allowed for agent " + agent.name()));
      return;
    }
    ToolSpec spec = tool.get().spec();
    PolicyVerdict verdict = e.policy().decide(state.header().tenant(), spec, call.arguments());
    switch (verdict) {
      case PolicyVerdict.Allow a ->
          record(
              new RunEvent.ToolCallProposed(
                  step,
                  callId,
                  spec.name(),
                  spec.version(),
                  call.arguments(),
                  "allow",
                  a.reason()));
      case PolicyVerdict.Deny d ->
          record(
              new RunEvent.ToolCallProposed(
                  step, callId, spec.name(), spec.version(), call.arguments(), "deny", d.reason()));
      case PolicyVerdict.RequireApproval r -> {
        record(
            new RunEvent.ToolCallProposed(
                step,
                callId,
                spec.name(),
                spec.version(),
                call.arguments(),
                "approval",
                r.reason()));
        record(
            new RunEvent.ApprovalRequested(
                e.ids().next("apr"),
                "tool_call",
                callId,
                spec.name(),
                call.arguments(),
                Hashes.of(call.arguments()),
                spec.riskLevel(),
                r.reason(),
                e.clock().instant().plus(e.config().approvalTtl())));
      }
    }
  }

  private Optional<Tool> toolFor(ToolCallState call) {
    return e.tools().find(call.tool());
  }

  private String idempotencyKey(ToolCallState call) {
    return "keel:" + runId.value() + ":" + call.callId();
  }

  private void execute(ToolCallState call) throws InterruptedException {
    Optional<Tool> tool = toolFor(call);
    if (tool.isEmpty()) {
      record(
          new RunEvent.ToolCallFailed(
              call.callId(),
              "unknown_tool",
              false,
              "tool '" + call.tool() + "' is not registered in this deployment"));
      return;
    }
    int attempt = call.attempts() + 1;
    record(
        new RunEvent.ToolCallStarted(
            call.callId(), call.tool(), idempotencyKey(call), attempt, lease.epoch()));
    flush(Disposition.KEEP, false);
    invoke(state.call(call.callId()).orElseThrow(), tool.get(), attempt);
  }

  private void invoke(ToolCallState call, Tool tool, int attempt) throws InterruptedException {
    e.faults().at(CrashPoint.B12_LEASE_HANDOVER, runId);
    ensureLease();
    invoked.add(call.callId());
    ToolResult result;
    toolThread = Thread.currentThread();
    try {
      result =
          tool.invoke(
              new ToolInvocation(
                  state.header().tenant(),
                  runId.value(),
                  call.callId(),
                  idempotencyKey(call),
                  call.arguments(),
                  attempt));
    } catch (InterruptedException x) {
      if (!cancelInFlight) {
        throw x;
      }
      result =
          new ToolResult.Failure(
              "cancelled",
              false,
              "the run was cancelled while this call was in flight; whether it took effect is unknown",
              "");
    } catch (RuntimeException x) {
      result = new ToolResult.Failure("tool_error", false, String.valueOf(x.getMessage()), "");
    } finally {
      toolThread = null;
      if (cancelInFlight) {
        Thread.interrupted();
      }
    }
    e.faults().at(CrashPoint.B7_TOOL_EFFECT_DONE, runId);
    RunEvent recorded =
        switch (result) {
          case ToolResult.Success s -> new RunEvent.ToolCallSucceeded(call.callId(), s.data());
          case ToolResult.Failure f ->
              new RunEvent.ToolCallFailed(call.callId(), f.type(), f.retryable(), f.message());
        };
    unrecordedResults.put(call.callId(), recorded);
    record(recorded);
    if (tool.spec().idempotency() == Idempotency.NONE) {
      flush(Disposition.KEEP, false);
    }
  }

  private void resumeStarted(ToolCallState call) throws InterruptedException {
    RunEvent known = unrecordedResults.get(call.callId());
    if (known != null) {
      record(known);
      return;
    }
    Optional<Tool> tool = toolFor(call);
    if (tool.isEmpty()) {
      record(
          new RunEvent.ToolCallFailed(
              call.callId(),
              "unknown_tool",
              false,
              "tool '" + call.tool() + "' is not registered in this deployment"));
      return;
    }
    ToolSpec spec = tool.get().spec();
    if (call.startedEpoch() == lease.epoch() && !invoked.contains(call.callId())) {
      invoke(call, tool.get(), call.attempts());
    } else if (spec.idempotency().safeToRetry()) {
      int attempt = call.attempts() + 1;
      record(
          new RunEvent.ToolCallStarted(
              call.callId(), call.tool(), idempotencyKey(call), attempt, lease.epoch()));
      flush(Disposition.KEEP, false);
      invoke(state.call(call.callId()).orElseThrow(), tool.get(), attempt);
    } else {
      record(
          new RunEvent.ToolOutcomeUnknown(
              call.callId(), spec.unknownOutcome(), spec.compensation().orElse("")));
      if (spec.unknownOutcome() == dev.keel.tool.UnknownOutcomePolicy.FAIL) {
        record(
            new RunEvent.RunFailed(
                "tool_outcome_unknown",
                "call "
                    + call.callId()
                    + " of "
                    + call.tool()
                    + " may or may not have happened, and the tool's policy is to fail"));
        flush(Disposition.RELEASE, false);
      }
    }
  }

  private void askAboutUnknown(ToolCallState call) {
    int risk = toolFor(call).map(t -> t.spec().riskLevel()).orElse(4);
    record(
        new RunEvent.ApprovalRequested(
            e.ids().next("apr"),
            "outcome_unknown",
            call.callId(),
            call.tool(),
            call.arguments(),
            Hashes.of(call.arguments()),
            risk,
            "the worker stopped after starting this call and before recording its result, and the"
                + " tool does not honour idempotency keys; approve to run it again, deny to give up",
            e.clock().instant().plus(e.config().approvalTtl())));
  }

  private void record(RunEvent event) {
    EventEnvelope env =
        new EventEnvelope(runId, state.lastSeq() + 1, e.clock().instant(), lease.epoch(), event);
    state = state.apply(env);
    pending.add(new RecordedEvent(env, state.chainHash()));
  }

  private void writeCheckpoint() throws InterruptedException {
    flush(Disposition.KEEP, false);
    flush(Disposition.KEEP, true);
  }

  private void flush(Disposition disposition, boolean checkpoint) throws InterruptedException {
    Optional<Checkpoint> cp = Optional.empty();
    if (checkpoint) {
      RunState at = state;
      String stateHash = Hashes.of(StateCodec.toJson(at));
      String hash = Hashes.checkpoint(at.lastCheckpointHash(), at.chainHash(), stateHash);
      cp =
          Optional.of(
              new Checkpoint(
                  runId, at.step(), at.lastSeq(), at, stateHash, at.lastCheckpointHash(), hash));
      record(new RunEvent.CheckpointSaved(at.step(), at.lastSeq(), hash));
    }
    boolean release = disposition instanceof Disposition.Release || state.status().terminal();
    if (pending.isEmpty() && !release) {
      return;
    }
    Append append =
        new Append(lease, durableSeq, pending, state, cp, disposition, e.config().leaseTime());
    for (int attempt = 1; ; attempt++) {
      long before = e.ticker().getAsLong();
      try {
        lease = e.store().append(append);
        leaseDeadlineNanos = before + safeLeaseNanos();
        leaseLost |= release;
        knownSignalSeq = Math.max(knownSignalSeq, lease.signalSeq());
        break;
      } catch (StoreException x) {
        if (reconcile(append) || attempt >= STORE_ATTEMPTS) {
          if (attempt >= STORE_ATTEMPTS && durableSeq != state.lastSeq()) {
            throw x;
          }
          break;
        }
        if (attempt > 1) {
          Thread.sleep(Math.min(1000, 10L << attempt));
        }
      }
    }
    List<RecordedEvent> done = List.copyOf(pending);
    pending.clear();
    durableSeq = state.lastSeq();
    durableState = state;
    unrecordedResults.keySet().removeIf(id -> done.stream().anyMatch(r -> resultOf(r, id)));
    for (RecordedEvent r : done) {
      fireAfterCommit(r.envelope().event());
    }
  }

  private static boolean resultOf(RecordedEvent r, String callId) {
    return switch (r.envelope().event()) {
      case RunEvent.ToolCallSucceeded s -> s.callId().equals(callId);
      case RunEvent.ToolCallFailed f -> f.callId().equals(callId);
      default -> false;
    };
  }

  /**
   * After a commit whose outcome is unknown: true if the log shows the batch committed. If it did
   * not, the caller sends it again; if someone else wrote, the lease is lost.
   */
  private boolean reconcile(Append append) {
    try {
      List<EventEnvelope> tail =
          e.store().events(runId, append.expectedLastSeq(), Integer.MAX_VALUE);
      if (tail.isEmpty()) {
        return false;
      }
      if (tail.size() == append.events().size()
          && tail.getLast().equals(append.events().getLast().envelope())) {
        long before = e.ticker().getAsLong();
        boolean held =
            e.store().renew(lease.workerId(), e.config().leaseTime()).stream()
                .anyMatch(l -> l.runId().equals(runId) && l.epoch() == lease.epoch());
        if (!held
            && !(append.disposition() instanceof Disposition.Release)
            && !append.stateAfter().status().terminal()) {
          throw new LeaseLostException(
              runId, lease.epoch(), "not renewed after an uncertain commit");
        }
        leaseDeadlineNanos = before + safeLeaseNanos();
        leaseLost |= !held;
        return true;
      }
      throw new LeaseLostException(
          runId, lease.epoch(), "another writer appended after seq " + append.expectedLastSeq());
    } catch (StoreException again) {
      return false;
    }
  }

  private void fireAfterCommit(RunEvent event) {
    CrashPoint point =
        switch (event) {
          case RunEvent.RunStarted s -> CrashPoint.B2_RUN_STARTED;
          case RunEvent.ModelResponded r -> CrashPoint.B5_MODEL_RESPONSE_RECORDED;
          case RunEvent.ToolCallStarted s -> CrashPoint.B6_TOOL_INTENT_RECORDED;
          case RunEvent.ToolCallSucceeded s -> CrashPoint.B8_TOOL_RESULT_RECORDED;
          case RunEvent.ToolCallFailed s -> CrashPoint.B8_TOOL_RESULT_RECORDED;
          case RunEvent.CheckpointSaved c -> CrashPoint.B9_CHECKPOINT_WRITTEN;
          case RunEvent.OutputRecorded o -> CrashPoint.B11_OUTPUT_RECORDED;
          default -> null;
        };
    if (point != null) {
      e.faults().at(point, runId);
    }
  }

  /** Fails before a side effect if the lease may have lapsed and cannot be renewed. */
  private void ensureLease() {
    if (leaseLost) {
      throw new LeaseLostException(runId, lease.epoch(), "the heartbeat could not renew it");
    }
    if (e.ticker().getAsLong() - leaseDeadlineNanos < 0) {
      return;
    }
    long before = e.ticker().getAsLong();
    Optional<Lease> renewed =
        e.store().renew(lease.workerId(), e.config().leaseTime()).stream()
            .filter(l -> l.runId().equals(runId) && l.epoch() == lease.epoch())
            .findFirst();
    if (renewed.isEmpty()) {
      leaseLost = true;
      throw new LeaseLostException(runId, lease.epoch(), "not renewed before a side effect");
    }
    lease = renewed.get();
    knownSignalSeq = Math.max(knownSignalSeq, lease.signalSeq());
    leaseDeadlineNanos = before + safeLeaseNanos();
  }
}
