package dev.keel.it;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.store.RunStore;
import dev.keel.testkit.LedgerTools;
import dev.keel.testkit.PlanScript;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;

/** The agent every crash test runs: a plan of ledger tool calls, the same in parent and child. */
final class CrashAgent {
  private CrashAgent() {}

  static final AgentSpec SPEC =
      new AgentSpec(
          "crash",
          "1",
          "Follow the plan.",
          "scripted",
          List.of("ledger.charge", "ledger.notify", "ledger.transfer"),
          new Budget(30, 30, 30, 1_000_000, Duration.ofDays(1)),
          64);

  static Engine engine(RunStore store, String ledgerUrl, FaultInjector faults, Duration lease) {
    return Engine.of(
        store,
        AgentCatalog.of(List.of(SPEC)),
        ScriptedModel.of(PlanScript.withPrefix("ledger.")),
        m -> Pricing.FREE,
        new ToolRegistry(LedgerTools.against(ledgerUrl)),
        ToolPolicy.byRiskLevel(),
        InstantSource.system(),
        IdSource.random(),
        faults,
        EngineConfig.DEFAULT
            .withLeaseTime(lease)
            .withCheckpointEvery(2)
            .withApprovalTtl(Duration.ofDays(1)));
  }
}
