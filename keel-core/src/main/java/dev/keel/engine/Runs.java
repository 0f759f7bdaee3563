package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.store.CreateResult;
import dev.keel.store.Loaded;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import java.util.Objects;
import java.util.Optional;

/** Creates runs and reads their state; the entry point the API and CLI share. */
public final class Runs {
  private final Engine engine;

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
      Optional<String> idempotencyKey) {
    /** Checks every field is present. */
    public Request {
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
          Optional.of(key));
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
          idempotencyKey);
    }
  }

  /**
   * Creates a run (or returns the one created earlier with the same idempotency key).
   *
   * @throws IllegalArgumentException if the agent or version is unknown
   */
  public CreateResult create(Request r) {
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
    RunId id = RunId.of(engine.ids().next("run"));
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            r.tenant(),
            agent.name(),
            agent.version(),
            r.input(),
            r.budget().orElse(agent.budget()),
            r.channel(),
            r.threadId(),
            r.parentRunId(),
            r.metadata());
    EventEnvelope env = new EventEnvelope(id, 1, engine.clock().instant(), 0, created);
    RecordedEvent first = new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env));
    return engine.store().create(new NewRun(id, r.tenant(), r.idempotencyKey(), first));
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
