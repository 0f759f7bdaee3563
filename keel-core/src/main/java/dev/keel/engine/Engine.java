package dev.keel.engine;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.model.ModelProvider;
import dev.keel.model.Pricing;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunState;
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
    java.util.function.LongSupplier ticker) {

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
