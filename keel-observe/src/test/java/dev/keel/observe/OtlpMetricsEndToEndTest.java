package dev.keel.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelCall;
import dev.keel.model.ModelCallContext;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.redact.Redaction;
import dev.keel.run.Budget;
import dev.keel.run.CrashPoint;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.SignalPayload;
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
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Metrics pushed over OTLP/HTTP to a real receiver (Micrometer's OTLP registry, every second here)
 * agree with the Prometheus scrape, and the metrics the engine derives from what it records —
 * provider fallbacks, approval denials, resumed executions' success, blocked calls, tool timeouts,
 * queue delay — are each triggered by a real run and read back from both.
 */
class OtlpMetricsEndToEndTest {
  static final TokenUsage USAGE = TokenUsage.of(1000, 200);
  final ManualClock clock = new ManualClock();
  final InMemoryRunStore store = new InMemoryRunStore(clock);

  @Test
  void metricsArePushedOverOtlpOnTheirIntervalAndAgreeWithTheScrape() throws Exception {
    Tool slow =
        tool("net.fetch", 0, () -> new ToolResult.Failure("timeout", false, "took over 5 s", ""));
    ScriptedModel model =
        ScriptedModel.of(
            (req, step) ->
                step == 1
                    ? response(
                        List.of(
                            new ToolCallRequest("a", "net.fetch", JsonValue.object("u", "x")),
                            new ToolCallRequest("b", "shell.exec", JsonValue.object("c", "rm"))))
                    : response(List.of()));
    try (OtlpReceiver receiver = new OtlpReceiver();
        Telemetry t =
            Telemetry.create(
                Optional.of(receiver.endpoint() + "/v1/traces"),
                Duration.ofSeconds(1),
                "keel-otlp-test",
                Redaction.secrets())) {
      assertThat(t.exportingMetrics()).isTrue();
      Engine e = engine(agent("fetcher", "net.fetch"), model, slow, FaultInjector.NONE, t);
      new Runs(e).create(Runs.Request.of("acme", "fetcher", JsonValue.object("goal", "go")));
      runOnce(e, "w1");

      // The periodic push (not the one at close) delivers the run's outcome.
      Map<String, String> fetcher = Map.of("agent", "fetcher", "outcome", "completed");
      awaitSum(receiver, "keel.runs.finished", fetcher, 1.0);
      assertThat(receiver.latestSum("keel.tool.timeouts", Map.of("tool", "net.fetch")))
          .hasValue(1.0);
      assertThat(receiver.latestSum("keel.tool.blocked", Map.of("tool", "shell.exec")))
          .hasValue(1.0);
      assertThat(
              receiver.latestSum(
                  "keel.tokens", Map.of("model", "claude-sonnet-4-5", "type", "input")))
          .hasValue(2000.0);
      assertThat(receiver.latestSum("keel.cost.micros", Map.of("model", "claude-sonnet-4-5")))
          .hasValue(12000.0);
      assertThat(
              receiver.latestHistogramCount(
                  "keel.model.call", Map.of("model", "claude-sonnet-4-5", "outcome", "ok")))
          .hasValue(2);
      assertThat(receiver.latestHistogramCount("keel.queue.delay", Map.of("agent", "fetcher")))
          .hasValue(1);
      assertThat(receiver.metricResources)
          .allMatch(r -> "keel-otlp-test".equals(r.get("service.name")));

      // The same meters, scraped.
      assertThat(t.scrape())
          .contains("keel_runs_finished_total{agent=\"fetcher\",outcome=\"completed\"} 1.0")
          .contains("keel_tool_timeouts_total{tool=\"net.fetch\"} 1.0")
          .contains("keel_tool_blocked_total{tool=\"shell.exec\"} 1.0")
          .contains("keel_queue_delay_seconds_count{agent=\"fetcher\",cause=\"created\"} 1");
    }
  }

  @Test
  void theLastValuesArePushedWhenTelemetryCloses() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      // An hour's interval: only the push at close can deliver anything.
      try (Telemetry t =
          Telemetry.create(
              Optional.of(receiver.endpoint()),
              Duration.ofHours(1),
              "keel-otlp-test",
              Redaction.secrets())) {
        Engine e =
            engine(
                agent("fetcher", "net.fetch"),
                ScriptedModel.of((req, step) -> response(List.of())),
                tool("net.fetch", 0, () -> new ToolResult.Success(JsonValue.object())),
                FaultInjector.NONE,
                t);
        new Runs(e).create(Runs.Request.of("acme", "fetcher", JsonValue.object("goal", "go")));
        runOnce(e, "w1");
      }
      assertThat(
              receiver.latestSum(
                  "keel.runs.finished", Map.of("agent", "fetcher", "outcome", "completed")))
          .hasValue(1.0);
    }
  }

  @Test
  void approvalDenialsAndProviderFallbacksAreCounted() throws Exception {
    AtomicInteger invoked = new AtomicInteger();
    Tool charge =
        tool(
            "shop.charge",
            3,
            () -> {
              invoked.incrementAndGet();
              return new ToolResult.Success(JsonValue.object("ok", true));
            });
    ScriptedModel scripted =
        ScriptedModel.of(
            (req, step) ->
                step == 1
                    ? response(
                        List.of(new ToolCallRequest("c1", "shop.charge", JsonValue.object())))
                    : response(List.of()));
    // A routing provider whose every answer came from the route's second target.
    ModelProvider routed =
        new ModelProvider() {
          @Override
          public String name() {
            return "routed";
          }

          @Override
          public ModelResponse complete(ModelRequest request) {
            return scripted.complete(request);
          }

          @Override
          public ModelCall completeFor(ModelRequest request, ModelCallContext context) {
            return new ModelCall(
                scripted.complete(request),
                JsonValue.object(
                    "route", "default",
                    "primary", "big",
                    "served_by", "small",
                    "fallback", true),
                java.util.OptionalLong.empty());
          }
        };
    try (OtlpReceiver receiver = new OtlpReceiver();
        Telemetry t =
            Telemetry.create(
                Optional.of(receiver.endpoint()),
                Duration.ofHours(1),
                "keel-otlp-test",
                Redaction.secrets())) {
      Engine e = engine(agent("charger", "shop.charge"), routed, charge, FaultInjector.NONE, t);
      RunId id =
          new Runs(e)
              .create(Runs.Request.of("acme", "charger", JsonValue.object("goal", "charge")))
              .runId();
      runOnce(e, "w1"); // asks for approval and releases the run
      ApprovalRecord a = store.approvals("acme", Optional.of("pending"), 10).getFirst();
      store.decide(
          "acme",
          new SignalPayload.ApprovalDecision(
              a.approvalId(), "denied", "bob", Optional.empty(), "no"));
      runOnce(e, "w2"); // resumes, sees the denial, answers
      assertThat(new Runs(e).state(id).status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(invoked).hasValue(0);

      String text = t.scrape();
      assertThat(text)
          .contains("keel_approvals_denied_total{agent=\"charger\"} 1.0")
          .contains("keel_approvals_decided_total{decision=\"denied\"} 1.0")
          .contains("keel_model_fallbacks_total{from=\"big\",route=\"default\",to=\"small\"} 2.0")
          .contains("keel_resumes_total{agent=\"charger\",outcome=\"success\"} 1.0")
          .doesNotContain("outcome=\"failure\"");
    }
  }

  @Test
  void queueDelayIsMeasuredEachTimeARunBecomesClaimable() throws Exception {
    Tool charge = tool("shop.charge", 3, () -> new ToolResult.Success(JsonValue.object()));
    ScriptedModel model =
        ScriptedModel.of(
            (req, step) ->
                step == 1
                    ? response(
                        List.of(new ToolCallRequest("c1", "shop.charge", JsonValue.object())))
                    : response(List.of()));
    try (OtlpReceiver receiver = new OtlpReceiver();
        Telemetry t =
            Telemetry.create(
                Optional.of(receiver.endpoint()),
                Duration.ofHours(1),
                "keel-otlp-test",
                Redaction.secrets())) {
      Engine e = engine(agent("charger", "shop.charge"), model, charge, FaultInjector.NONE, t);
      Runs runs = new Runs(e);
      RunId id =
          runs.create(Runs.Request.of("acme", "charger", JsonValue.object("goal", "go"))).runId();
      clock.advance(Duration.ofSeconds(3));
      runOnce(e, "w1"); // created 3 s ago; asks for approval and releases the run
      assertThat(runs.state(id).status()).isEqualTo(RunStatus.WAITING);
      clock.advance(Duration.ofMinutes(2)); // waiting for a person is not queue delay
      ApprovalRecord a = store.approvals("acme", Optional.of("pending"), 10).getFirst();
      store.decide(
          "acme",
          new SignalPayload.ApprovalDecision(
              a.approvalId(), "approved", "bob", Optional.empty(), "ok"));
      clock.advance(Duration.ofSeconds(5));
      runOnce(e, "w2"); // approved 5 s ago
      assertThat(runs.state(id).status()).isEqualTo(RunStatus.COMPLETED);

      // A worker claims a second run and dies; the run waits from its lease's expiry.
      RunId lapsed =
          runs.create(Runs.Request.of("acme", "charger", JsonValue.object("goal", "go"))).runId();
      clock.advance(Duration.ofSeconds(1));
      assertThat(store.claim("dead", e.config().leaseTime(), 1))
          .extracting(Lease::runId)
          .containsExactly(lapsed);
      clock.advance(e.config().leaseTime().plusSeconds(7));
      runOnce(e, "w3"); // 7 s after the dead worker's lease expired

      String text = t.scrape();
      assertThat(text)
          .contains("keel_queue_delay_seconds_count{agent=\"charger\",cause=\"created\"} 2")
          .contains("keel_queue_delay_seconds_sum{agent=\"charger\",cause=\"created\"} 10.0")
          .contains("keel_queue_delay_seconds_count{agent=\"charger\",cause=\"decided\"} 1")
          .contains("keel_queue_delay_seconds_sum{agent=\"charger\",cause=\"decided\"} 5.0");
      t.close();
      assertThat(
              receiver.latestHistogramCount(
                  "keel.queue.delay", Map.of("agent", "charger", "cause", "decided")))
          .hasValue(1);
      assertThat(
              receiver.latestHistogramSum(
                  "keel.queue.delay", Map.of("agent", "charger", "cause", "created")))
          .hasValue(10.0);
    }
  }

  @Test
  void aResumedExecutionCountsAsFailedOrSucceeded() throws Exception {
    // Every execution but the last crashes after the first tool result is recorded.
    AtomicInteger crashes = new AtomicInteger(2);
    FaultInjector crash =
        (point, run) -> {
          if (point == CrashPoint.B8_TOOL_RESULT_RECORDED && crashes.getAndDecrement() > 0) {
            throw new IllegalStateException("simulated crash");
          }
        };
    ScriptedModel model =
        ScriptedModel.of(
            (req, step) ->
                step <= 2
                    ? response(
                        List.of(
                            new ToolCallRequest(
                                "t" + step, "net.fetch", JsonValue.object("u", "x"))))
                    : response(List.of()));
    try (Telemetry t = Telemetry.exporting(Optional.empty(), "keel-test", Redaction.secrets())) {
      Engine e =
          engine(
              agent("fetcher", "net.fetch"),
              model,
              tool("net.fetch", 0, () -> new ToolResult.Success(JsonValue.object())),
              crash,
              t);
      RunId id =
          new Runs(e)
              .create(Runs.Request.of("acme", "fetcher", JsonValue.object("goal", "go")))
              .runId();
      assertThatThrownBy(() -> runOnce(e, "w1")).hasMessageContaining("simulated crash");
      clock.advance(Duration.ofSeconds(11));
      assertThatThrownBy(() -> runOnce(e, "w2")).hasMessageContaining("simulated crash");
      clock.advance(Duration.ofSeconds(11));
      runOnce(e, "w3");
      assertThat(new Runs(e).state(id).status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(t.scrape())
          .contains("keel_executions_started_total{agent=\"fetcher\",kind=\"first\"} 1.0")
          .contains("keel_executions_started_total{agent=\"fetcher\",kind=\"resume\"} 2.0")
          .contains("keel_resumes_total{agent=\"fetcher\",outcome=\"failure\"} 1.0")
          .contains("keel_resumes_total{agent=\"fetcher\",outcome=\"success\"} 1.0");
    }
  }

  private void runOnce(Engine e, String worker) throws Exception {
    Lease l = store.claim(worker, e.config().leaseTime(), 1).getFirst();
    RunExecution.load(e, l, e.ticker().getAsLong()).run();
  }

  private static void awaitSum(
      OtlpReceiver receiver, String name, Map<String, String> attributes, double want)
      throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(60);
    while (true) {
      OptionalDouble v = receiver.latestSum(name, attributes);
      if (v.isPresent() && v.getAsDouble() == want) {
        return;
      }
      assertThat(Instant.now())
          .as(
              "no %s %s = %s pushed yet; received %s",
              name, attributes, want, receiver.metricNames())
          .isBefore(deadline);
      Thread.sleep(50);
    }
  }

  private Engine engine(
      AgentSpec agent, ModelProvider model, Tool tool, FaultInjector faults, Telemetry t) {
    return new Engine(
            store,
            AgentCatalog.of(List.of(agent)),
            model,
            m -> new Pricing(3_000_000, 15_000_000, 0),
            new ToolRegistry(List.of(tool)),
            ToolPolicy.byRiskLevel(),
            clock,
            IdSource.seeded(3),
            faults,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(10)).withCheckpointEvery(1),
            () -> clock.instant().truncatedTo(ChronoUnit.NANOS).toEpochMilli() * 1_000_000L)
        .withObserver(t.observer());
  }

  private static AgentSpec agent(String name, String tool) {
    return new AgentSpec(
        name, "1", "Do it.", "claude-sonnet-4-5", List.of(tool), Budget.DEFAULT, 64);
  }

  private static ModelResponse response(List<ToolCallRequest> calls) {
    return new ModelResponse(
        "claude-sonnet-4-5",
        calls.isEmpty() ? "done" : "",
        calls,
        USAGE,
        calls.isEmpty() ? FinishReason.STOP : FinishReason.TOOL_CALLS);
  }

  private static Tool tool(String name, int risk, Supplier<ToolResult> r) {
    ToolSpec spec = ToolSpec.builder(name).riskLevel(risk).idempotency(Idempotency.NATURAL).build();
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
