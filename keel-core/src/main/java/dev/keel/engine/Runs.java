package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Budget;
import dev.keel.run.EventCodec;
import dev.keel.run.EventEnvelope;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.store.CreateResult;
import dev.keel.store.Loaded;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/** Creates runs and reads their state; the entry point the API and CLI share. */
public final class Runs {
  private static final int VERSIONS_CACHED = 256;
  private final Engine engine;
  // The versions object of each agent definition seen, by identity: computing it hashes the whole
  // canonical definition, the largest CPU cost of a create. A reloaded definition is a new object.
  private final Map<AgentSpec, JsonObject> versions = new IdentityHashMap<>();
  private final ReentrantLock versionsLock = new ReentrantLock();

  /** Creates the facade over {@code engine}. */
  public Runs(Engine engine) {
    this.engine = engine;
  }

  /**
   * What to run.
   *
   * @param tenant the tenant
   * @param agent the agent name
   * @param agentVersion a pinned version, or empty for the newest
   * @param input the input ({@code goal}, {@code messages})
   * @param budget limits, or empty for the agent's
   * @param channel where it came from
   * @param threadId its thread, if any
   * @param parentRunId its parent, if a sub-run
   * @param metadata labels
   * @param idempotencyKey the client's key, if any
   * @param createdBy the API key id that creates the run, if any
   */
  public record Request(
      String tenant,
      String agent,
      Optional<String> agentVersion,
      JsonObject input,
      Optional<Budget> budget,
      String channel,
      Optional<String> threadId,
      Optional<String> parentRunId,
      JsonObject metadata,
      Optional<String> idempotencyKey,
      Optional<String> createdBy) {
    /** A request whose creator is not recorded (in-process callers, tests). */
    public Request(
        String tenant,
        String agent,
        Optional<String> agentVersion,
        JsonObject input,
        Optional<Budget> budget,
        String channel,
        Optional<String> threadId,
        Optional<String> parentRunId,
        JsonObject metadata,
        Optional<String> idempotencyKey) {
      this(
          tenant,
          agent,
          agentVersion,
          input,
          budget,
          channel,
          threadId,
          parentRunId,
          metadata,
          idempotencyKey,
          Optional.empty());
    }

    /** Checks every field is present. */
    public Request {
      Objects.requireNonNull(createdBy, "createdBy");
      Objects.requireNonNull(tenant, "tenant");
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(agentVersion, "agentVersion");
      Objects.requireNonNull(input, "input");
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(channel, "channel");
      Objects.requireNonNull(threadId, "threadId");
      Objects.requireNonNull(parentRunId, "parentRunId");
      Objects.requireNonNull(metadata, "metadata");
      Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    }

    /** A plain request: the goal for the newest version of {@code agent}. */
    public static Request of(String tenant, String agent, JsonObject input) {
      return new Request(
          tenant,
          agent,
          Optional.empty(),
          input,
          Optional.empty(),
          "api",
          Optional.empty(),
          Optional.empty(),
          dev.keel.json.JsonValue.EMPTY_OBJECT,
          Optional.empty());
    }

    /** A copy with an idempotency key. */
    public Request withIdempotencyKey(String key) {
      return new Request(
          tenant,
          agent,
          agentVersion,
          input,
          budget,
          channel,
          threadId,
          parentRunId,
          metadata,
          Optional.of(key),
          createdBy);
    }

    /** A copy for {@code c}hannel ({@code api}, {@code web}, {@code cli}, {@code voice}, ...). */
    public Request withChannel(String c) {
      return new Request(
          tenant,
          agent,
          agentVersion,
          input,
          budget,
          c,
          threadId,
          parentRunId,
          metadata,
          idempotencyKey,
          createdBy);
    }

    /** A copy recording {@code keyId} as the run's creator. */
    public Request withCreatedBy(String keyId) {
      return new Request(
          tenant,
          agent,
          agentVersion,
          input,
          budget,
          channel,
          threadId,
          parentRunId,
          metadata,
          idempotencyKey,
          Optional.of(keyId));
    }

    /** A copy with a budget. */
    public Request withBudget(Budget b) {
      return new Request(
          tenant,
          agent,
          agentVersion,
          input,
          Optional.of(b),
          channel,
          threadId,
          parentRunId,
          metadata,
          idempotencyKey,
          createdBy);
    }
  }

  /**
   * Creates a run (or returns the one created earlier with the same idempotency key).
   *
   * @throws IllegalArgumentException if the agent or version is unknown
   */
  public CreateResult create(Request r) {
    return createWithState(r).result();
  }

  /**
   * A create's outcome with the state the run was created in.
   *
   * @param result the store's answer
   * @param initial the state of the new run right after its creation (before any worker touched
   *     it); empty when the store found an existing run with the same idempotency key
   */
  public record Created(CreateResult result, Optional<RunState> initial) {
    /** Checks the fields are present. */
    public Created {
      Objects.requireNonNull(result, "result");
      Objects.requireNonNull(initial, "initial");
    }
  }

  /**
   * Creates a run like {@link #create} and also returns the state it was created in, so a caller
   * can answer without reading the run back.
   *
   * @throws IllegalArgumentException if the agent or version is unknown
   */
  public Created createWithState(Request r) {
    return createWithState(r, RunId.of(engine.ids().next("run")));
  }

  /**
   * Like {@link #createWithState(Request)}, with the id the new run gets chosen by the caller (the
   * server binds its quota slot to the id before the run exists, so a run is never counted twice).
   */
  public Created createWithState(Request r, RunId id) {
    Objects.requireNonNull(id, "id");
    AgentSpec agent =
        (r.agentVersion().isPresent()
                ? engine.agents().find(r.agent(), r.agentVersion().get())
                : engine.agents().latest(r.agent()))
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "unknown agent '"
                            + r.agent()
                            + "'"
                            + r.agentVersion().map(v -> " version " + v).orElse("")));
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            r.tenant(),
            agent.name(),
            agent.version(),
            (dev.keel.json.JsonValue.JsonObject) engine.redaction().redact(r.input()),
            r.budget().orElse(agent.budget()),
            r.channel(),
            r.threadId(),
            r.parentRunId(),
            (dev.keel.json.JsonValue.JsonObject) engine.redaction().redact(r.metadata()),
            Optional.empty(),
            cachedVersions(agent),
            r.createdBy());
    EventEnvelope env = new EventEnvelope(id, 1, engine.clock().instant(), 0, created);
    String payload = EventCodec.encode(created);
    RecordedEvent first =
        new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env, payload), payload);
    CreateResult result =
        engine.store().create(new NewRun(id, r.tenant(), r.idempotencyKey(), first));
    return new Created(
        result,
        result.existing() ? Optional.empty() : Optional.of(RunState.initial(env, first.hash())));
  }

  /** {@link #versions} of {@code agent}, computed once per definition object. */
  private JsonObject cachedVersions(AgentSpec agent) {
    versionsLock.lock();
    try {
      JsonObject v = versions.get(agent);
      if (v != null) {
        return v;
      }
    } finally {
      versionsLock.unlock();
    }
    JsonObject v = versions(agent);
    versionsLock.lock();
    try {
      if (versions.size() >= VERSIONS_CACHED) {
        versions.clear();
      }
      versions.put(agent, v);
    } finally {
      versionsLock.unlock();
    }
    return v;
  }

  /**
   * What a fork changes.
   *
   * @param instruction a new user message the fork starts with, if any
   * @param budget a new budget, or empty for the source's
   * @param agentVersion another version of the same agent, or empty for the source's
   * @param metadata labels added to the source's
   */
  public record ForkOverrides(
      Optional<String> instruction,
      Optional<Budget> budget,
      Optional<String> agentVersion,
      JsonObject metadata) {
    /** No overrides. */
    public static final ForkOverrides NONE =
        new ForkOverrides(
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            dev.keel.json.JsonValue.EMPTY_OBJECT);

    /** Checks every field is present. */
    public ForkOverrides {
      Objects.requireNonNull(instruction, "instruction");
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(agentVersion, "agentVersion");
      Objects.requireNonNull(metadata, "metadata");
    }
  }

  /**
   * Creates a new run that continues {@code source}'s conversation as of its checkpoint at {@code
   * checkpointStep}. Recorded model answers and tool results before that point are part of the
   * fork's history and are never requested or run again; the fork's own counters and budget start
   * anew, and its metadata names where it came from.
   *
   * @throws IllegalArgumentException if the source is not this tenant's, or has no checkpoint at
   *     that step (the message lists the steps it has)
   */
  public CreateResult fork(
      String tenant, RunId source, int checkpointStep, ForkOverrides overrides) {
    return fork(tenant, source, checkpointStep, overrides, Optional.empty());
  }

  /**
   * Like {@link #fork(String, RunId, int, ForkOverrides)}, recording {@code createdBy} (the API key
   * that asked for the fork) as the new run's creator.
   */
  public CreateResult fork(
      String tenant,
      RunId source,
      int checkpointStep,
      ForkOverrides overrides,
      Optional<String> createdBy) {
    Objects.requireNonNull(createdBy, "createdBy");
    List<dev.keel.store.Checkpoint> checkpoints = engine.store().checkpoints(source);
    if (checkpoints.isEmpty() || !checkpoints.getFirst().state().header().tenant().equals(tenant)) {
      throw new IllegalArgumentException("run " + source + " has no checkpoint to fork from");
    }
    dev.keel.store.Checkpoint cp =
        checkpoints.stream()
            .filter(c -> c.step() == checkpointStep)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "run "
                            + source
                            + " has no checkpoint at step "
                            + checkpointStep
                            + "; it has steps "
                            + checkpoints.stream().map(c -> Integer.toString(c.step())).toList()));
    RunState base = cp.state();
    List<dev.keel.model.Message> conversation = new java.util.ArrayList<>(base.messages());
    conversation.addAll(base.inbox());
    JsonObject fork =
        dev.keel.json.JsonValue.object(
            "run_id", source.value(),
            "checkpoint_step", (long) cp.step(),
            "through_seq", cp.throughSeq(),
            "checkpoint_hash", cp.hash(),
            "messages", dev.keel.run.StateCodec.messages(conversation));
    if (overrides.instruction().isPresent()) {
      fork = fork.with("instruction", dev.keel.json.JsonValue.of(overrides.instruction().get()));
    }
    String version = overrides.agentVersion().orElse(base.header().agentVersion());
    AgentSpec agent =
        engine
            .agents()
            .find(base.header().agentName(), version)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "unknown agent '" + base.header().agentName() + "' version " + version));
    JsonObject metadata = base.header().metadata();
    for (var m : overrides.metadata().members().entrySet()) {
      metadata = metadata.with(m.getKey(), m.getValue());
    }
    metadata =
        metadata
            .with("forked_from", dev.keel.json.JsonValue.of(source.value()))
            .with("forked_at_step", dev.keel.json.JsonValue.of(cp.step()));
    RunId id = RunId.of(engine.ids().next("run"));
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            tenant,
            agent.name(),
            agent.version(),
            base.header().input(),
            overrides.budget().orElse(base.header().budget()),
            base.header().channel(),
            base.header().threadId(),
            Optional.empty(),
            metadata,
            Optional.of(fork),
            versions(agent),
            createdBy);
    EventEnvelope env = new EventEnvelope(id, 1, engine.clock().instant(), 0, created);
    return engine
        .store()
        .create(
            new NewRun(
                id,
                tenant,
                Optional.empty(),
                new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env))));
  }

  /**
   * The versions a run of {@code agent} is created with: the agent's, its prompt's, its model's and
   * those of the tools it may call, as this deployment has them.
   */
  public JsonObject versions(AgentSpec agent) {
    java.util.Map<String, Object> tools = new java.util.TreeMap<>();
    for (String t : agent.tools()) {
      engine.tools().find(t).ifPresent(x -> tools.put(t, x.spec().version()));
    }
    return dev.keel.json.JsonValue.object(
        "agent", agent.version(),
        "agent_hash", agent.contentHash(),
        "prompt", agent.promptVersion(),
        "model", agent.model(),
        "tools", dev.keel.json.JsonValue.from(tools));
  }

  /**
   * Replaces the plan of a run with a person's edit; the run's next step sees it.
   *
   * @return the signal's sequence, or empty if the run is not this tenant's or has ended
   * @throws IllegalArgumentException naming the first bad field of {@code plan}
   */
  public Optional<Long> editPlan(String tenant, RunId runId, JsonObject plan, String by) {
    dev.keel.run.Plan.readSteps(plan);
    return engine
        .store()
        .signal(tenant, runId, new dev.keel.store.SignalPayload.PlanEdit(plan, by));
  }

  /**
   * Answers the question a run waits on ({@code keel.ask_person}) by deciding its approval of kind
   * {@code question}, so the answer is recorded exactly once.
   *
   * @param input the answer: a string, or an object with {@code answer} or {@code text}
   * @return the decided approval, or empty if the run asks no question
   */
  public Optional<dev.keel.store.ApprovalRecord> answer(
      String tenant, RunId runId, dev.keel.json.JsonValue input, String by) {
    Optional<dev.keel.store.RunRow> row = engine.store().row(runId);
    if (row.isEmpty() || !row.get().tenant().equals(tenant)) {
      return Optional.empty();
    }
    Optional<dev.keel.run.PendingApproval> question =
        state(runId).approvals().stream().filter(a -> a.kind().equals("question")).findFirst();
    if (question.isEmpty()) {
      return Optional.empty();
    }
    dev.keel.json.JsonValue answer = input;
    if (input instanceof JsonObject o) {
      answer = o.get("answer").or(() -> o.get("text")).orElse(input);
    }
    answer = engine.redaction().redact(answer);
    return engine
        .store()
        .decide(
            tenant,
            new dev.keel.store.SignalPayload.ApprovalDecision(
                question.get().approvalId(),
                "approved",
                by,
                Optional.of(dev.keel.json.JsonValue.object("answer", answer)),
                ""));
  }

  /** The current state of {@code runId}, folded from its newest checkpoint and later events. */
  public RunState state(RunId runId) {
    Loaded loaded = engine.store().load(runId);
    RunState s =
        loaded.checkpoint().isPresent()
            ? loaded.checkpoint().get().state()
            : RunState.initial(loaded.events().getFirst());
    for (EventEnvelope env : loaded.events()) {
      if (env.seq() > s.lastSeq()) {
        s = s.apply(env);
      }
    }
    return s;
  }
}
