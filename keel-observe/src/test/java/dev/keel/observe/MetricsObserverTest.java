package dev.keel.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.redact.Redaction;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.store.Lease;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ManualClock;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Prometheus scrape after a real run holds the engine's metrics with exact counts. */
class MetricsObserverTest {
  @Test
  void aRunShowsOutcomesLatenciesTokensCostTimeoutsAndBlockedCalls() throws Exception {
    ManualClock clock = new ManualClock();
    InMemoryRunStore store = new InMemoryRunStore(clock);
    Tool slow =
        tool("net.fetch", () -> new ToolResult.Failure("timeout", false, "took over 5 s", ""));
    AgentSpec agent =
        new AgentSpec(
            "fetcher",
            "1",
            "Fetch.",
            "claude-sonnet-4-5",
            List.of("net.fetch"),
            Budget.DEFAULT,
            64);
    TokenUsage u = TokenUsage.of(1000, 200);
    ScriptedModel model =
        ScriptedModel.of(
            (req, step) ->
                switch (step) {
                  case 1 ->
                      new ModelResponse(
                          "claude-sonnet-4-5",
                          "",
                          List.of(
                              new ToolCallRequest("a", "net.fetch", JsonValue.object("u", "x")),
                              new ToolCallRequest("b", "shell.exec", JsonValue.object("c", "rm"))),
                          u,
                          FinishReason.TOOL_CALLS);
                  default ->
                      new ModelResponse("claude-sonnet-4-5", "ok", List.of(), u, FinishReason.STOP);
                });
    try (Telemetry t = Telemetry.exporting(Optional.empty(), "keel-test", Redaction.secrets())) {
      Engine e =
          new Engine(
                  store,
                  AgentCatalog.of(List.of(agent)),
                  model,
                  m -> new Pricing(3_000_000, 15_000_000, 0),
                  new ToolRegistry(List.of(slow)),
                  ToolPolicy.byRiskLevel(),
                  clock,
                  IdSource.seeded(3),
                  FaultInjector.NONE,
                  EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(10)).withCheckpointEvery(1),
                  () -> clock.instant().truncatedTo(ChronoUnit.NANOS).toEpochMilli() * 1_000_000L)
              .withObserver(t.observer());
      new Runs(e).create(Runs.Request.of("acme", "fetcher", JsonValue.object("goal", "go")));
      Lease l = store.claim("w1", e.config().leaseTime(), 1).getFirst();
      RunExecution.load(e, l, e.ticker().getAsLong()).run();

      String text = t.scrape();
      assertThat(text)
          .contains("keel_runs_finished_total{agent=\"fetcher\",outcome=\"completed\"} 1.0")
          .contains("keel_executions_started_total{agent=\"fetcher\",kind=\"first\"} 1.0")
          .contains("keel_tokens_total{model=\"claude-sonnet-4-5\",type=\"input\"} 2000.0")
          .contains("keel_tokens_total{model=\"claude-sonnet-4-5\",type=\"output\"} 400.0")
          // 2 calls x (1000 x $3 + 200 x $15) per million tokens = 2 x 6000 micros
          .contains("keel_cost_micros_total{model=\"claude-sonnet-4-5\"} 12000.0")
          .contains("keel_tool_timeouts_total{tool=\"net.fetch\"} 1.0")
          .contains("keel_tool_blocked_total{tool=\"shell.exec\"} 1.0")
          .contains(
              "keel_model_call_seconds_count{model=\"claude-sonnet-4-5\",outcome=\"ok\","
                  + "provider=\"anthropic\"} 2")
          .contains("keel_tool_call_seconds_bucket{outcome=\"timeout\",tool=\"net.fetch\",le=")
          .contains("keel_checkpoint_write_seconds_count")
          .contains("keel_step_seconds_count{agent=\"fetcher\"} 1")
          .contains("keel_queue_delay_seconds_count{agent=\"fetcher\",cause=\"created\"} 1")
          .contains(
              "gen_ai_client_token_usage_tokens_sum{gen_ai_request_model=\"claude-sonnet-4-5\"");
    }
  }

  private static Tool tool(String name, java.util.function.Supplier<ToolResult> r) {
    ToolSpec spec = ToolSpec.builder(name).riskLevel(0).idempotency(Idempotency.NATURAL).build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        return r.get();
      }
    };
  }
}
