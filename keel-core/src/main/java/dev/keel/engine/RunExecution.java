package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.ModelException;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventCodec;
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
import java.time.Duration;
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
  private final Optional<Duration> queued;
  private volatile RunState state;
  private RunState durableState;
  private long durableSeq;
  private final List<RecordedEvent> pending = new ArrayList<>();
  // A checkpoint taken but not yet committed; it goes with the next commit of pending.
  private Optional<Checkpoint> pendingCheckpoint = Optional.empty();
  private final Set<String> invoked = new HashSet<>();

  /** JSON and token counts of this run's recorded messages, kept from step to step. */
  private final dev.keel.agent.MessageMemo messageMemo = new dev.keel.agent.MessageMemo();

  private final Map<String, RunEvent> unrecordedResults = new HashMap<>();
  private long leaseDeadlineNanos;
  private volatile boolean leaseLost;
  private volatile boolean draining;
  private volatile long knownSignalSeq;
  private volatile @org.jspecify.annotations.Nullable Thread toolThread;
  private volatile boolean cancelInFlight;
  private ToolScope.@org.jspecify.annotations.Nullable Bound bound;

  private RunExecution(Engine e, Lease lease, RunState state, long requestedAtNanos) {
    this.e = e;
    this.runId = lease.runId();
    this.lease = lease;
    this.state = state;
    this.durableState = state;
    this.durableSeq = state.lastSeq();
    this.knownSignalSeq = lease.signalSeq();
    this.leaseDeadlineNanos = requestedAtNanos + safeLeaseNanos();
    // The claim set the lease to expire one lease time after it, by the store's clock.
    Instant claimedAt = lease.expiresAt().minus(e.config().leaseTime());
    this.queued =
        lease
            .readyAt()
            .map(r -> r.isAfter(claimedAt) ? Duration.ZERO : Duration.between(r, claimedAt));
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
    queued.ifPresent(d -> e.observe(o -> o.executionQueued(state, d)));
    e.observe(o -> o.executionStarted(state, lease.workerId(), lease.epoch()));
    String how = "failed";
    try {
      while (advance()) {
        // each advance records, commits or acts once
      }
      how = state.status().terminal() ? "ended" : "released";
    } catch (LeaseLostException x) {
      how = "lost";
      throw x;
    } finally {
      String h = how;
      e.observe(o -> o.executionEnded(state, h));
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
    Next next =
        AgentLoop.decide(
            state,
            agent,
            e.pricing().apply(agent.model()),
            now,
            m -> messageMemo.size(m, AgentLoop::messageBytes));
    switch (next) {
      case Next.Done d -> {
        if (!(leaseLost && pending.isEmpty())) {
          flush(Disposition.RELEASE, false); // an ending inside a step has released the run already
        }
        return false;
      }
      case Next.Start s -> {
        record(new RunEvent.RunStarted());
        if (!bound().versions().isEmpty()) {
          record(
              new RunEvent.DecisionRecorded(
                  0,
                  "tools_bound",
                  JsonValue.object(
                      "tools", JsonValue.from(new java.util.TreeMap<>(bound().versions())))));
        }
        // Not committed on its own: the start goes into the next commit, which every path
        // makes before it acts (the model request's reservation, a wait, an ending).
      }
      case Next.RecordOutput o -> {
        return recordOutput(agent, o);
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
      case Next.AskAboutCandidates x -> askAboutCandidates(x.call(), agent.ambiguityThreshold());
      case Next.AwaitSubruns a -> {
        return awaitSubruns(a);
      }
    }
    return true;
  }

  private void consumeSignals() {
    List<Signal> signals = e.store().signals(runId, state.signalsConsumed());
    for (Signal sig : signals) {
      if (state.status().terminal()) {
        return;
      }
      // A signal stored by another writer than the API (which redacts) is redacted here (0052).
      switch (sig.payload().redacted(e.redaction())) {
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
            record(new RunEvent.MessageReceived(e.redaction().redact(m.content()), sig.seq()));
        case SignalPayload.PlanEdit p ->
            record(
                new RunEvent.PlanUpdated(
                    state.step(),
                    "",
                    new dev.keel.run.Plan(
                            state.loop().plan().revision() + 1,
                            dev.keel.run.Plan.readSteps(p.plan()))
                        .toJson(),
                    p.by(),
                    sig.seq()));
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
    String tenant = state.header().tenant();
    dev.keel.agent.ContextPack pack = ContextAudit.pack(e, state, agent, bound(), messageMemo);
    if (!pack.fits()) {
      record(
          new RunEvent.RunFailed(
              "context_overflow",
              "step "
                  + requested.step()
                  + " needs "
                  + pack.tokens()
                  + " input tokens even with older history left out ("
                  + pack.refs().get("tokenizer").orElseThrow()
                  + "), and the model's window of "
                  + pack.refs().get("window").orElseThrow()
                  + " leaves "
                  + pack.available()
                  + " after the output allowance"));
      flush(Disposition.RELEASE, false);
      return;
    }
    String reservation = runId.value() + ":" + requested.step();
    if (!e.costs().reserve(tenant, runId.value(), reservation, requested.reservedMicros())) {
      String detail =
          "the tenant's shared cost budget cannot cover the next model call (up to "
              + AgentLoop.micros(requested.reservedMicros())
              + " USD)";
      record(new RunEvent.BudgetExceeded("tenant_cost_usd", detail));
      record(new RunEvent.RunTimedOut("tenant_cost_usd", detail));
      flush(Disposition.RELEASE, false);
      return;
    }
    ModelRequest request = pack.request();
    ModelResponse response = null;
    long began = e.ticker().getAsLong();
    int attempts = 0;
    dev.keel.model.ModelCall answered = null;
    dev.keel.model.ModelCallContext context =
        new dev.keel.model.ModelCallContext(
            state.header().tenant(),
            runId.value(),
            agent.name(),
            requested.step(),
            Math.max(0, state.header().budget().maxCostMicros() - state.usage().costMicros()));
    for (int attempt = 1; response == null; attempt++) {
      attempts = attempt;
      try {
        answered = e.model().completeFor(request, context);
        response = answered.response();
      } catch (ModelException x) {
        if (!x.retryable() || attempt >= MODEL_ATTEMPTS) {
          String message = e.redaction().redact(String.valueOf(x.getMessage()));
          observeModel(requested.step(), agent, request, null, message, attempt, began);
          e.costs().settle(tenant, reservation, 0);
          record(new RunEvent.RunFailed("model_error", message));
          flush(Disposition.RELEASE, false);
          return;
        }
        Thread.sleep(x.retryAfter().map(java.time.Duration::toMillis).orElse(100L * attempt));
        ensureLease();
      }
    }
    e.faults().at(CrashPoint.B4_MODEL_RESPONSE_RECEIVED, runId);
    ModelResponse priced = response;
    long cost =
        answered
            .costMicros()
            .orElseGet(() -> e.pricing().apply(agent.model()).costMicros(priced.usage()));
    int step = requested.step();
    ModelResponse answeredResponse = response;
    long took = e.ticker().getAsLong() - began;
    int tries = attempts;
    e.observe(
        o ->
            o.modelCalled(
                state,
                new EngineObserver.ModelCall(
                    step,
                    agent.model(),
                    request,
                    Optional.of(answeredResponse),
                    Optional.empty(),
                    cost,
                    tries,
                    took)));
    e.costs().settle(tenant, reservation, cost);
    record(new RunEvent.ModelResponded(step, response, cost));
    if (!answered.routing().members().isEmpty()) {
      record(new RunEvent.DecisionRecorded(step, "model_routed", answered.routing()));
    }
    List<ToolCallRequest> calls = response.toolCalls();
    List<Decision> decisions = Decision.read(response, agent);
    record(
        new RunEvent.DecisionRecorded(
            step,
            Decision.action(decisions),
            JsonValue.object(
                    "tools", calls.stream().map(ToolCallRequest::name).toList(),
                    "decisions", decisions.stream().map(Decision::kind).toList(),
                    "context",
                        pack.refs()
                            .with("messages", JsonValue.of((long) request.messages().size()))
                            .with("chain", JsonValue.of(state.chainHash())),
                    "cost_micros", cost)
                .with("checks", JsonValue.from(DecisionChecks.of(state, agent, calls)))));
    for (Decision d : decisions) {
      if (state.status().terminal()) {
        break; // keel.fail ended the run; nothing after it is recorded
      }
      apply(step, d, agent);
    }
  }

  private void observeModel(
      int step,
      AgentSpec agent,
      ModelRequest request,
      @org.jspecify.annotations.Nullable ModelResponse response,
      String error,
      int attempts,
      long began) {
    long took = e.ticker().getAsLong() - began;
    e.observe(
        o ->
            o.modelCalled(
                state,
                new EngineObserver.ModelCall(
                    step,
                    agent.model(),
                    request,
                    Optional.ofNullable(response),
                    Optional.of(error),
                    0,
                    attempts,
                    took)));
  }

  /** Records the events of one decision; tool calls go through the policy as before. */
  private void apply(int step, Decision d, AgentSpec agent) {
    switch (d) {
      case Decision.Respond r -> {
        // the fold made the text the draft answer
      }
      case Decision.CallTool c -> propose(step, c.index(), c.call(), agent);
      case Decision.UpdatePlan u ->
          record(
              new RunEvent.PlanUpdated(
                  step,
                  RunState.callId(step, u.index()),
                  new dev.keel.run.Plan(state.loop().plan().revision() + 1, u.steps()).toJson(),
                  "agent",
                  0));
      case Decision.AskPerson q ->
          askPerson(
              step,
              q.index(),
              Decision.ASK_PERSON,
              JsonValue.object("question", q.question(), "choices", q.choices()),
              q.question());
      case Decision.Finish f ->
          record(
              new RunEvent.AnswerDrafted(
                  step, RunState.callId(step, f.index()), f.text(), f.data()));
      case Decision.Fail f -> {
        if (!state.status().terminal()) {
          record(new RunEvent.RunFailed("agent_failed", f.reason()));
        }
      }
      case Decision.Spawn x -> spawn(step, x, agent);
      case Decision.Choose c ->
          record(
              new RunEvent.CandidateChosen(
                  step,
                  RunState.callId(step, c.index()),
                  c.arguments(),
                  c.value(),
                  c.confidence()));
      case Decision.Ambiguous q ->
          askPerson(
              step,
              q.index(),
              Decision.CHOOSE,
              q.arguments().with("choices", JsonValue.from(q.choices())),
              q.question());
      case Decision.Invalid x ->
          record(
              new RunEvent.ToolCallProposed(
                  step,
                  RunState.callId(step, x.index()),
                  x.call().name(),
                  "",
                  x.call().arguments(),
                  "deny",
                  x.reason()));
    }
  }

  private void askPerson(
      int step, int index, String tool, JsonValue.JsonObject args, String question) {
    String callId = RunState.callId(step, index);
    record(
        new RunEvent.ToolCallProposed(
            step, callId, tool, "", args, "approval", "the agent asks a person"));
    record(
        new RunEvent.ApprovalRequested(
            e.ids().next("apr"),
            "question",
            callId,
            tool,
            args,
            Hashes.of(args),
            0,
            question,
            e.clock().instant().plus(e.config().approvalTtl())));
  }

  /** A tool reported several candidates and none is clearly meant: a person chooses. */
  private void askAboutCandidates(ToolCallState call, double threshold) {
    List<dev.keel.agent.Ambiguity.Candidate> candidates =
        dev.keel.agent.Ambiguity.inResult(call.result().orElseThrow()).orElseThrow();
    String question = dev.keel.agent.Ambiguity.question(call.tool(), candidates, threshold);
    JsonValue.JsonObject args =
        JsonValue.object(
            "question", question, "choices", dev.keel.agent.Ambiguity.choices(candidates));
    record(
        new RunEvent.ApprovalRequested(
            e.ids().next("apr"),
            "question",
            call.callId(),
            call.tool(),
            args,
            Hashes.of(args),
            0,
            question,
            e.clock().instant().plus(e.config().approvalTtl())));
  }

  /**
   * Records a sub-agent spawn: the child agent must exist and use only tools the parent may use;
   * its budget is the smaller of what was asked, the child's default and what the parent has left.
   * The child run is created after this intent is committed ({@link #awaitSubruns}).
   */
  private void spawn(int step, Decision.Spawn x, AgentSpec agent) {
    String callId = RunState.callId(step, x.index());
    Optional<AgentSpec> child = e.agents().latest(x.agent());
    String problem =
        child.isEmpty()
            ? "no agent named '" + x.agent() + "'"
            : !agent.tools().containsAll(child.get().tools())
                ? "agent '"
                    + x.agent()
                    + "' may use tools this agent may not: "
                    + child.get().tools().stream().filter(t -> !agent.tools().contains(t)).toList()
                : "";
    dev.keel.run.Budget b = state.header().budget();
    dev.keel.run.Usage u = state.usage();
    java.time.Duration left =
        java.time.Duration.between(
            e.clock().instant(), state.header().createdAt().plus(b.maxDuration()));
    int steps = b.maxSteps() - state.step();
    int modelCalls = b.maxModelCalls() - u.modelCalls();
    int toolCalls = b.maxToolCalls() - u.toolCalls();
    long cost = b.maxCostMicros() - u.costMicros() - openSubrunCost();
    if (problem.isEmpty() && (steps < 1 || modelCalls < 1 || cost <= 0 || left.toSeconds() < 1)) {
      problem = "this run has no budget left to give a sub-agent";
    }
    if (!problem.isEmpty()) {
      record(
          new RunEvent.ToolCallProposed(
              step, callId, Decision.SPAWN, "", x.budget(), "deny", problem));
      return;
    }
    dev.keel.run.Budget own = child.get().budget();
    JsonValue.JsonObject ask = x.budget();
    dev.keel.run.Budget slice =
        new dev.keel.run.Budget(
            Math.min(Math.min(steps, own.maxSteps()), askInt(ask, "max_steps", steps)),
            Math.min(
                Math.min(modelCalls, own.maxModelCalls()),
                askInt(ask, "max_model_calls", modelCalls)),
            Math.max(
                0,
                Math.min(
                    Math.min(toolCalls, own.maxToolCalls()),
                    askInt(ask, "max_tool_calls", toolCalls))),
            Math.min(
                Math.min(cost, own.maxCostMicros()),
                ask.get("max_cost_usd")
                    .map(dev.keel.run.EventCodec::usdToMicros)
                    .orElse(Long.MAX_VALUE)),
            left.compareTo(own.maxDuration()) < 0
                ? java.time.Duration.ofSeconds(left.toSeconds())
                : own.maxDuration());
    String childId = "run_" + Hashes.sha256(runId.value() + "/" + callId).substring(0, 24);
    record(
        new RunEvent.SubrunSpawned(
            step,
            callId,
            childId,
            child.get().name(),
            child.get().version(),
            x.goal(),
            dev.keel.run.EventCodec.budget(slice)));
  }

  /**
   * The cost budgets of the children this run still waits for, spawned in earlier commits or in
   * this step: each slice stays reserved in the parent until its child ends and its real cost rolls
   * up, so children spawned together can never spend more than the parent had left.
   */
  private long openSubrunCost() {
    java.util.Set<String> open = new java.util.HashSet<>();
    for (ToolCallState c : state.pendingSubruns()) {
      open.add(c.callId());
    }
    if (open.isEmpty()) {
      return 0;
    }
    List<RunEvent> seen = new ArrayList<>();
    for (EventEnvelope env : e.store().events(runId, 0, Integer.MAX_VALUE)) {
      seen.add(env.event());
    }
    for (RecordedEvent r : pending) {
      seen.add(r.envelope().event());
    }
    long sum = 0;
    for (RunEvent ev : seen) {
      if (ev instanceof RunEvent.SubrunSpawned x && open.remove(x.callId())) {
        sum += dev.keel.run.EventCodec.budget(x.budget()).maxCostMicros();
      }
    }
    return sum;
  }

  private static int askInt(JsonValue.JsonObject ask, String key, int fallback) {
    return ask.get(key)
        .filter(JsonValue.JsonNumber.class::isInstance)
        .map(
            n ->
                (int)
                    Math.max(
                        1,
                        Math.min(
                            Integer.MAX_VALUE, ((JsonValue.JsonNumber) n).value().longValue())))
        .orElse(fallback);
  }

  /**
   * Creates (once: the id and idempotency key are derived from the parent and the call) each child
   * run the run waits for, records the end of any that ended, or else releases the run to wait.
   */
  private boolean awaitSubruns(Next.AwaitSubruns a) throws InterruptedException {
    flush(Disposition.KEEP, false);
    for (ToolCallState c : state.pendingSubruns()) {
      RunEvent.SubrunSpawned spawned = spawnedEvent(c.callId());
      RunId child = RunId.of(spawned.childRunId());
      Optional<dev.keel.store.RunRow> row = e.store().row(child);
      if (row.isEmpty()) {
        createChild(spawned);
        continue;
      }
      if (row.get().status().terminal()) {
        RunState cs = new Runs(e).state(child);
        JsonValue.JsonObject result =
            cs.output()
                .map(o -> JsonValue.object("output", o))
                .orElse(
                    JsonValue.object(
                        "error",
                        cs.error()
                            .map(x -> JsonValue.object("code", x.code(), "message", x.message()))
                            .orElse(JsonValue.EMPTY_OBJECT)));
        dev.keel.run.Usage cu = cs.usage();
        record(
            new RunEvent.SubrunFinished(
                c.callId(),
                child.value(),
                cs.status().wire(),
                result,
                JsonValue.object(
                    "model_calls", (long) cu.modelCalls(),
                    "tool_calls", (long) cu.toolCalls(),
                    "input_tokens", cu.inputTokens(),
                    "output_tokens", cu.outputTokens(),
                    "cost_micros", cu.costMicros())));
        return true;
      }
    }
    if (state.status() != RunStatus.WAITING) {
      record(new RunEvent.RunWaiting("subrun"));
    }
    flush(new Disposition.Release(Optional.of(a.readyAt())), false);
    // A child that ended between the look above and the release woke this run before the release
    // set its timer again: look once more, and wake this run if so (0025).
    for (ToolCallState c : state.pendingSubruns()) {
      RunId child = RunId.of(spawnedEvent(c.callId()).childRunId());
      if (e.store().row(child).map(r -> r.status().terminal()).orElse(false)) {
        wake(runId);
        break;
      }
    }
    return false;
  }

  /** Wakes {@code run}; a failure only costs latency, since its safety poll still comes. */
  private void wake(RunId run) {
    try {
      e.store().wake(run);
    } catch (RuntimeException x) {
      // the waiting run's timer (AgentLoop.SUBRUN_POLL) still finds the ended child
    }
  }

  private RunEvent.SubrunSpawned spawnedEvent(String callId) {
    for (EventEnvelope env : e.store().events(runId, 0, Integer.MAX_VALUE)) {
      if (env.event() instanceof RunEvent.SubrunSpawned s && s.callId().equals(callId)) {
        return s;
      }
    }
    throw new IllegalStateException("no subrun.spawned for " + callId + " in " + runId);
  }

  private void createChild(RunEvent.SubrunSpawned s) {
    RunId id = RunId.of(s.childRunId());
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            state.header().tenant(),
            s.agent(),
            s.agentVersion(),
            JsonValue.object("goal", s.goal()),
            dev.keel.run.EventCodec.budget(s.budget()),
            state.header().channel(),
            Optional.empty(),
            Optional.of(runId.value()),
            JsonValue.object("parent_call_id", s.callId()),
            Optional.empty(),
            e.agents()
                .find(s.agent(), s.agentVersion())
                .map(a -> new Runs(e).versions(a))
                .orElse(JsonValue.EMPTY_OBJECT),
            state.header().createdBy());
    EventEnvelope env = new EventEnvelope(id, 1, e.clock().instant(), 0, created);
    e.store()
        .create(
            new dev.keel.store.NewRun(
                id,
                state.header().tenant(),
                Optional.of("keel-subrun:" + id.value()),
                new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env))));
  }

  /** A run that ended while sub-agents still run cancels them (best effort, after the commit). */
  private void cancelSubruns() {
    for (ToolCallState c : durableState.pendingSubruns()) {
      c.arguments()
          .string("child_run_id")
          .ifPresent(
              child ->
                  e.store()
                      .signal(
                          state.header().tenant(),
                          RunId.of(child),
                          new SignalPayload.Cancel(
                              "the parent run " + runId + " ended " + durableState.status().wire(),
                              "keel")));
    }
  }

  /**
   * Checks a draft answer and records it as the output once it passes: first the output contract
   * (no model call), then, if due, reflection against the acceptance criteria (one model call). A
   * failed check sends its issues back to the model while attempts remain, else fails the run.
   */
  private boolean recordOutput(AgentSpec agent, Next.RecordOutput o) throws InterruptedException {
    if (agent.outputSchema().isPresent()) {
      List<String> errors = e.outputs().violations(agent.outputSchema().get(), o.data());
      if (!errors.isEmpty()) {
        return repairOrFail(
            agent,
            "contract",
            "output_invalid",
            "the output does not match the agent's output schema",
            errors);
      }
    }
    String channel = state.header().channel();
    if (agent.responseProfiles().containsKey(channel)) {
      List<String> errors = agent.profile(channel).violations(o.text());
      if (!errors.isEmpty()) {
        return repairOrFail(
            agent,
            "profile",
            "profile_violated",
            "the answer does not fit the " + channel + " channel's response profile",
            errors);
      }
    }
    if (o.reflectAttempt() > 0) {
      return reflect(agent, o);
    }
    record(new RunEvent.OutputRecorded(JsonValue.object("text", o.text(), "data", o.data())));
    flush(Disposition.KEEP, false);
    return true;
  }

  /** Records a failed mechanical check: the draft goes back for repair, or the run fails. */
  private boolean repairOrFail(
      AgentSpec agent, String check, String code, String what, List<String> errors)
      throws InterruptedException {
    int attempt = state.loop().repairs() + 1;
    boolean last = attempt > agent.maxRepairs();
    record(
        new RunEvent.OutputChecked(
            check,
            attempt,
            false,
            JsonValue.object(
                "passed", false, "issues", errors, "next_action", last ? "fail" : "repair"),
            dev.keel.model.TokenUsage.ZERO,
            0));
    if (last) {
      record(
          new RunEvent.RunFailed(
              code,
              what
                  + " after "
                  + agent.maxRepairs()
                  + " repair attempt(s): "
                  + String.join("; ", errors)));
      flush(Disposition.RELEASE, false);
      return false;
    }
    return true;
  }

  private boolean reflect(AgentSpec agent, Next.RecordOutput o) throws InterruptedException {
    flush(Disposition.KEEP, false);
    ensureLease();
    ModelRequest request = Reflection.request(agent, state, o.text(), o.data());
    ModelResponse response;
    try {
      response = e.model().complete(request);
    } catch (ModelException x) {
      record(new RunEvent.RunFailed("model_error", "reflection check: " + x.getMessage()));
      flush(Disposition.RELEASE, false);
      return false;
    }
    long cost = e.pricing().apply(agent.model()).costMicros(response.usage());
    Reflection.Result r = Reflection.read(response);
    int attempt = o.reflectAttempt();
    boolean last = !r.passed() && attempt >= agent.maxReflections();
    record(
        new RunEvent.OutputChecked(
            "reflection",
            attempt,
            r.passed(),
            JsonValue.object(
                "passed",
                r.passed(),
                "issues",
                r.issues(),
                "next_action",
                r.passed() ? "finish" : last ? "fail" : r.nextAction()),
            response.usage(),
            cost));
    if (last) {
      record(
          new RunEvent.RunFailed(
              "acceptance_failed",
              "the answer did not meet the acceptance criteria after "
                  + attempt
                  + " check(s): "
                  + String.join("; ", r.issues())));
      flush(Disposition.RELEASE, false);
      return false;
    }
    flush(Disposition.KEEP, false);
    return true;
  }

  private void propose(int step, int index, ToolCallRequest call, AgentSpec agent) {
    String callId = RunState.callId(step, index);
    Optional<Tool> tool =
        agent.tools().contains(call.name()) ? bound().tools().find(call.name()) : Optional.empty();
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
    PolicyVerdict verdict =
        bound().policy().decide(state.header().tenant(), spec, call.arguments());
    String override = agent.approvalOverrides().getOrDefault(spec.name(), "");
    if (override.equals("deny") && !(verdict instanceof PolicyVerdict.Deny)) {
      verdict = new PolicyVerdict.Deny("agent " + agent.name() + " denies every call of this tool");
    } else if (override.equals("always") && verdict instanceof PolicyVerdict.Allow) {
      verdict =
          new PolicyVerdict.RequireApproval(
              "agent "
                  + agent.name()
                  + " requires a person's approval for every call of this tool");
    }
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
    return bound().tools().find(call.tool());
  }

  private ToolScope.Bound bound() {
    ToolScope.Bound b = bound;
    if (b == null) {
      b = e.toolScope().forRun(state);
      bound = b;
    }
    return b;
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
    Optional<String> refused =
        e.gate()
            .refuse(
                state.header(),
                call,
                new ToolInvocation(
                    state.header().tenant(),
                    runId.value(),
                    call.callId(),
                    idempotencyKey(call),
                    call.arguments(),
                    attempt));
    if (refused.isPresent()) {
      record(new RunEvent.ToolCallFailed(call.callId(), "execution_refused", false, refused.get()));
      return;
    }
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
    long began = e.ticker().getAsLong();
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
          case ToolResult.Success s ->
              new RunEvent.ToolCallSucceeded(call.callId(), e.redaction().redactValues(s.data()));
          case ToolResult.Failure f ->
              new RunEvent.ToolCallFailed(
                  call.callId(), f.type(), f.retryable(), e.redaction().redact(f.message()));
        };
    long took = e.ticker().getAsLong() - began;
    e.observe(
        o ->
            o.toolInvoked(
                state,
                new EngineObserver.ToolCall(call.callId(), call.tool(), attempt, recorded, took)));
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
    String payload = EventCodec.encode(event);
    state = state.apply(env, payload);
    pending.add(new RecordedEvent(env, state.chainHash(), payload));
  }

  /**
   * Takes a checkpoint of the state now and records {@code checkpoint.saved}; both ride on the next
   * commit (the one before the model call), so a checkpoint costs no commit of its own.
   */
  private void writeCheckpoint() {
    long began = e.ticker().getAsLong();
    pendingCheckpoint = Optional.of(checkpointNow());
    long took = e.ticker().getAsLong() - began;
    int step = state.step();
    e.observe(o -> o.checkpointWritten(state, step, took));
  }

  private Checkpoint checkpointNow() {
    RunState at = state;
    String stateHash = Hashes.of(StateCodec.toJson(at));
    String hash = Hashes.checkpoint(at.lastCheckpointHash(), at.chainHash(), stateHash);
    Checkpoint cp =
        new Checkpoint(
            runId, at.step(), at.lastSeq(), at, stateHash, at.lastCheckpointHash(), hash);
    record(new RunEvent.CheckpointSaved(at.step(), at.lastSeq(), hash));
    return cp;
  }

  private void flush(Disposition disposition, boolean checkpoint) throws InterruptedException {
    Optional<Checkpoint> cp = checkpoint ? Optional.of(checkpointNow()) : pendingCheckpoint;
    boolean release = disposition instanceof Disposition.Release || state.status().terminal();
    if (pending.isEmpty() && !release) {
      return;
    }
    Append append =
        new Append(lease, durableSeq, pending, state, cp, disposition, e.config().leaseTime());
    long flushBegan = e.ticker().getAsLong();
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
    pendingCheckpoint = Optional.empty();
    durableSeq = state.lastSeq();
    boolean ended = !durableState.status().terminal() && state.status().terminal();
    durableState = state;
    unrecordedResults.keySet().removeIf(id -> done.stream().anyMatch(r -> resultOf(r, id)));
    if (durableState.status().terminal()
        && !durableState.pendingSubruns().isEmpty()
        && done.stream()
            .anyMatch(
                r ->
                    r.envelope().event() instanceof RunEvent.RunCancelled
                        || r.envelope().event() instanceof RunEvent.RunFailed
                        || r.envelope().event() instanceof RunEvent.RunTimedOut)) {
      cancelSubruns();
    }
    if (ended && state.header().parentRunId().isPresent()) {
      // the parent waits for this sub-run: make it claimable now instead of at its poll timer
      wake(RunId.of(state.header().parentRunId().get()));
    }
    long flushTook = e.ticker().getAsLong() - flushBegan;
    List<EventEnvelope> committed = done.stream().map(RecordedEvent::envelope).toList();
    e.observe(o -> o.committed(state, committed, flushTook));
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
          case RunEvent.PlanUpdated p -> CrashPoint.B13_PLAN_UPDATED;
          case RunEvent.ApprovalRequested a when a.kind().equals("question") ->
              CrashPoint.B14_QUESTION_ASKED;
          case RunEvent.OutputChecked c -> CrashPoint.B15_OUTPUT_CHECKED;
          case RunEvent.SubrunSpawned x -> CrashPoint.B16_SUBRUN_SPAWNED;
          case RunEvent.SubrunFinished x -> CrashPoint.B17_SUBRUN_FINISHED;
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
