package dev.keel.engine;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.ModelProvider;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.RunStore;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ManualClock;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import dev.keel.tool.UnknownOutcomePolicy;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A synchronous engine on a manual clock and the in-memory store, for unit tests. */
final class Harness {
  final ManualClock clock = new ManualClock();
  final RunStore store;
  final Engine engine;
  final Runs runs;
  final Map<String, AtomicInteger> effects = new ConcurrentHashMap<>();
  final AtomicInteger invocations = new AtomicInteger();

  Harness(ModelProvider model, Budget budget, FaultInjector faults) {
    this(model, budget, faults, new InMemoryRunStoreFactory());
  }

  interface StoreFactory {
    RunStore create(ManualClock clock);
  }

  static final class InMemoryRunStoreFactory implements StoreFactory {
    @Override
    public RunStore create(ManualClock clock) {
      return new InMemoryRunStore(clock);
    }
  }

  Harness(ModelProvider model, Budget budget, FaultInjector faults, StoreFactory stores) {
    this(model, null, budget, faults, stores);
  }

  /** A harness with {@code custom} agents (one named {@code shop}); null for the default one. */
  Harness(
      ModelProvider model,
      @org.jspecify.annotations.Nullable List<AgentSpec> custom,
      Budget budget,
      FaultInjector faults,
      StoreFactory stores) {
    this(model, custom, budget, faults, stores, List.of());
  }

  /** A harness with {@code extra} tools besides the shop's. */
  Harness(
      ModelProvider model,
      @org.jspecify.annotations.Nullable List<AgentSpec> custom,
      Budget budget,
      FaultInjector faults,
      StoreFactory stores,
      List<Tool> extra) {
    store = stores.create(clock);
    List<Tool> tools =
        new java.util.ArrayList<>(
            List.of(
                tool("shop.lookup", 0, Idempotency.NATURAL, UnknownOutcomePolicy.FAIL),
                tool("shop.charge", 3, Idempotency.KEYED, UnknownOutcomePolicy.ASK_PERSON),
                tool("shop.email", 2, Idempotency.NONE, UnknownOutcomePolicy.ASK_PERSON),
                tool("shop.push", 2, Idempotency.NONE, UnknownOutcomePolicy.FAIL)));
    tools.addAll(extra);
    AgentSpec agent =
        custom != null
            ? custom.getFirst()
            : new AgentSpec(
                "shop",
                "1",
                "You help customers.",
                "scripted",
                List.of("shop.lookup", "shop.charge", "shop.email", "shop.push"),
                budget,
                256);
    engine =
        new Engine(
            store,
            AgentCatalog.of(custom != null ? custom : List.of(agent)),
            model,
            m -> Pricing.FREE,
            new ToolRegistry(tools),
            ToolPolicy.byRiskLevel(),
            clock,
            IdSource.seeded(7),
            faults,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(10)).withCheckpointEvery(2),
            () -> clock.instant().truncatedTo(ChronoUnit.NANOS).toEpochMilli() * 1_000_000L);
    runs = new Runs(engine);
  }

  private Tool tool(String name, int risk, Idempotency idem, UnknownOutcomePolicy unknown) {
    ToolSpec spec =
        ToolSpec.builder(name).riskLevel(risk).idempotency(idem).unknownOutcome(unknown).build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(dev.keel.tool.ToolInvocation inv) {
        invocations.incrementAndGet();
        AtomicInteger n = effects.computeIfAbsent(inv.idempotencyKey(), k -> new AtomicInteger());
        if (idem == Idempotency.KEYED) {
          n.compareAndSet(0, 1);
        } else {
          n.incrementAndGet();
        }
        return new ToolResult.Success(JsonValue.object("ok", true, "tool", name));
      }
    };
  }

  RunId start(String goal) {
    return runs.create(
            dev.keel.engine.Runs.Request.of("acme", "shop", JsonValue.object("goal", goal)))
        .runId();
  }

  /** Claims and advances every claimable run until none is claimable. */
  void runUntilIdle() throws InterruptedException {
    for (int guard = 0; guard < 1000; guard++) {
      List<Lease> leases = store.claim("w1", engine.config().leaseTime(), 100);
      if (leases.isEmpty()) {
        return;
      }
      for (Lease l : leases) {
        try {
          RunExecution.load(engine, l, engine.ticker().getAsLong()).run();
        } catch (LeaseLostException ignored) {
          // another execution owns it
        }
      }
    }
    throw new AssertionError("runs did not settle");
  }

  RunState state(RunId id) {
    return runs.state(id);
  }
}
