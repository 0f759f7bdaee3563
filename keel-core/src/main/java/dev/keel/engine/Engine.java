package dev.keel.engine;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.model.ModelProvider;
import dev.keel.model.Pricing;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunState;
import dev.keel.store.CostLedger;
import dev.keel.store.RunStore;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.Function;

/**
 * Everything a worker needs to advance runs: the ports, the clock, ids, fault points and tunables.
 * Wired with constructors in one place (the app); the engine names no concrete adapter.
 *
 * @param store the system of record
 * @param agents where agent definitions come from
 * @param model the model gateway
 * @param pricing the price of each model
 * @param tools the registered tools
 * @param policy decides every proposed tool call
 * @param clock the engine's clock (event times, deadlines)
 * @param ids makes approval and run ids
 * @param faults named fault points, inert in production
 * @param config tunables
 * @param ticker a monotonic nanosecond source for lease deadlines ({@code System::nanoTime})
 * @param observer hears what executions do (traces, metrics); {@link EngineObserver#NONE} by
 *     default
 * @param redaction masks secrets in what enters a run (input, tool results, errors) before it is
 *     recorded
 * @param outputs checks answers against agents' output schemas
 * @param toolScope the tools and policy of each run ({@link ToolScope#fixed} by default)
 * @param gate the last check before an approved call executes ({@link ExecutionGate#ALLOW})
 * @param costs budgets shared by runs (a tenant's), reserved before each model call ({@link
 *     CostLedger#UNLIMITED})
 */
public record Engine(
    RunStore store,
    AgentCatalog agents,
    ModelProvider model,
    Function<String, Pricing> pricing,
    ToolRegistry tools,
    ToolPolicy policy,
    InstantSource clock,
    IdSource ids,
    FaultInjector faults,
    EngineConfig config,
    java.util.function.LongSupplier ticker,
    EngineObserver observer,
    dev.keel.redact.Redaction redaction,
    dev.keel.agent.OutputContract outputs,
    ToolScope toolScope,
    ExecutionGate gate,
    CostLedger costs) {

  /** Checks every part is present. */
  public Engine {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(agents, "agents");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(pricing, "pricing");
    Objects.requireNonNull(tools, "tools");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(ids, "ids");
    Objects.requireNonNull(faults, "faults");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(ticker, "ticker");
    Objects.requireNonNull(observer, "observer");
    Objects.requireNonNull(redaction, "redaction");
    Objects.requireNonNull(outputs, "outputs");
    Objects.requireNonNull(toolScope, "toolScope");
    Objects.requireNonNull(gate, "gate");
    Objects.requireNonNull(costs, "costs");
  }

  /**
   * An engine whose runs all use {@code tools} and {@code policy}, with no observer, the default
   * secret redaction, the core's basic output-schema check, no execution gate and no shared budget.
   */
  public Engine(
      RunStore store,
      AgentCatalog agents,
      ModelProvider model,
      Function<String, Pricing> pricing,
      ToolRegistry tools,
      ToolPolicy policy,
      InstantSource clock,
      IdSource ids,
      FaultInjector faults,
      EngineConfig config,
      java.util.function.LongSupplier ticker) {
    this(
        store,
        agents,
        model,
        pricing,
        tools,
        policy,
        clock,
        ids,
        faults,
        config,
        ticker,
        EngineObserver.NONE,
        dev.keel.redact.Redaction.secrets(),
        dev.keel.agent.OutputContract.BASIC,
        ToolScope.fixed(tools, policy),
        ExecutionGate.ALLOW,
        CostLedger.UNLIMITED);
  }

  /** A copy with another observer. */
  public Engine withObserver(EngineObserver v) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, ticker, v,
        redaction, outputs, toolScope, gate, costs);
  }

  /** A copy with another redaction layer. */
  public Engine withRedaction(dev.keel.redact.Redaction v) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, ticker, observer,
        v, outputs, toolScope, gate, costs);
  }

  /** A copy that checks output schemas with {@code v}. */
  public Engine withOutputContract(dev.keel.agent.OutputContract v) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, ticker, observer,
        redaction, v, toolScope, gate, costs);
  }

  /** A copy that chooses each run's tools and policy with {@code v}. */
  public Engine withToolScope(ToolScope v) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, ticker, observer,
        redaction, outputs, v, gate, costs);
  }

  /** A copy that checks every call with {@code v} before executing it. */
  public Engine withGate(ExecutionGate v) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, ticker, observer,
        redaction, outputs, toolScope, v, costs);
  }

  /** A copy that reserves each model call's worst case against {@code v} first. */
  public Engine withCostLedger(CostLedger v) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, ticker, observer,
        redaction, outputs, toolScope, gate, v);
  }

  /** Calls the observer, ignoring anything it throws: observing never changes a run. */
  void observe(java.util.function.Consumer<EngineObserver> call) {
    try {
      call.accept(observer);
    } catch (RuntimeException ignored) {
      // an observer's failure is its own; the run's record does not depend on it
    }
  }

  /** An engine on the system's monotonic clock. */
  public static Engine of(
      RunStore store,
      AgentCatalog agents,
      ModelProvider model,
      Function<String, Pricing> pricing,
      ToolRegistry tools,
      ToolPolicy policy,
      InstantSource clock,
      IdSource ids,
      FaultInjector faults,
      EngineConfig config) {
    return new Engine(
        store, agents, model, pricing, tools, policy, clock, ids, faults, config, System::nanoTime);
  }

  /** The exact agent version a run pinned, failing clearly if it is gone. */
  AgentSpec agentOf(RunState s) {
    return agents
        .find(s.header().agentName(), s.header().agentVersion())
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "agent "
                        + s.header().agentName()
                        + " version "
                        + s.header().agentVersion()
                        + " of "
                        + s.runId()
                        + " is no longer defined; restore that version to resume the run"));
  }
}
