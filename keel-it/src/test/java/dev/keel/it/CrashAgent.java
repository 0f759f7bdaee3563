package dev.keel.it;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.json.JsonValue;
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

  /**
   * An agent that uses every durable decision: it plans and charges, asks a person, delegates to
   * {@link #CHILD} and waits, then finishes and is checked by reflection.
   */
  static final AgentSpec PARENT =
      AgentSpec.builder("crash-parent")
          .instructions("You delegate.", "1")
          .tools(List.of("ledger.charge", "ledger.notify", "ledger.transfer"))
          .capabilities(java.util.Set.of("plan", "ask_person", "finish", "spawn"))
          .acceptance(List.of("reports what the sub-agent did"), 1)
          .budget(new Budget(30, 30, 30, 1_000_000, Duration.ofDays(1)))
          .maxOutputTokens(64)
          .build();

  /** The sub-agent {@link #PARENT} starts: it follows the plan in its goal. */
  static final AgentSpec CHILD =
      AgentSpec.builder("crash-child")
          .instructions("Follow the plan.", "1")
          .tools(List.of("ledger.transfer"))
          .budget(new Budget(10, 10, 10, 1_000_000, Duration.ofDays(1)))
          .maxOutputTokens(64)
          .build();

  /** The goal {@link #PARENT} gives {@link #CHILD}, and what the parent finishes with. */
  static final String CHILD_GOAL = "plan:transfer";

  static final String PARENT_ANSWER = "child said: " + PlanScript.answer(CHILD_GOAL);

  /** The parent's steps; reflection checks pass; other agents follow {@link PlanScript}. */
  static ScriptedModel.Script script() {
    ScriptedModel.Script plan = PlanScript.withPrefix("ledger.");
    return (req, step) -> {
      if (req.outputSchema().isPresent()) {
        return ScriptedModel.text(
            "{\"passed\": true, \"issues\": [], \"next_action\": \"finish\"}");
      }
      String system = ((dev.keel.model.Message.System) req.messages().getFirst()).text();
      if (!system.startsWith("You delegate.")) {
        return plan.reply(req, step);
      }
      return switch (step) {
        case 1 ->
            ScriptedModel.calls(
                ScriptedModel.call(
                    "p",
                    "keel.update_plan",
                    JsonValue.object(
                        "steps",
                        List.of(
                            JsonValue.object("id", "1", "title", "Charge", "status", "in_progress"),
                            JsonValue.object(
                                "id", "2", "title", "Delegate", "status", "pending")))),
                ScriptedModel.call("c", "ledger.charge", JsonValue.object("step", 1L, "n", 0L)));
        case 2 ->
            ScriptedModel.calls(
                ScriptedModel.call("q", "keel.ask_person", JsonValue.object("question", "Go on?")));
        case 3 ->
            ScriptedModel.calls(
                ScriptedModel.call(
                    "s",
                    "keel.spawn_agent",
                    JsonValue.object("agent", CHILD.name(), "goal", CHILD_GOAL)));
        default -> {
          boolean sawChild =
              req.messages().getLast() instanceof dev.keel.model.Message.ToolResult r
                  && r.content().toString().contains(PlanScript.answer(CHILD_GOAL));
          yield ScriptedModel.calls(
              ScriptedModel.call(
                  "f",
                  "keel.finish",
                  JsonValue.object(
                      "text", sawChild ? PARENT_ANSWER : "the child's output is missing")));
        }
      };
    };
  }

  static Engine engine(RunStore store, String ledgerUrl, FaultInjector faults, Duration lease) {
    return Engine.of(
        store,
        AgentCatalog.of(List.of(SPEC, PARENT, CHILD)),
        ScriptedModel.of(script()),
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
