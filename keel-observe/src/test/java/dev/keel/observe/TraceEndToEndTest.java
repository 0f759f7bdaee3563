package dev.keel.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.FinishReason;
import dev.keel.model.Message;
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
import dev.keel.store.Lease;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ManualClock;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Traces end to end: an agent run that crashes mid-way and is resumed by a second engine with its
 * own OpenTelemetry SDK (as a restarted process would be) exports, over real OTLP/HTTP protobuf to
 * a real receiver, one trace whose id is derived from the run id, with GenAI spans and links.
 */
class TraceEndToEndTest {
  static final String CANARY = "sk-proj-CANARYc4n4ry0bs3rv3T3BlbkFJx9y8z7w6v5u4t3s2r1q0p";

  final ManualClock clock = new ManualClock();
  final InMemoryRunStore store = new InMemoryRunStore(clock);

  @Test
  void aRunThatCrashesAndResumesIsOneTraceWithGenAiSpans() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      AtomicBoolean crashed = new AtomicBoolean();
      FaultInjector crashOnce =
          (point, run) -> {
            if (point == CrashPoint.B8_TOOL_RESULT_RECORDED && crashed.compareAndSet(false, true)) {
              throw new IllegalStateException("simulated crash after the first tool result");
            }
          };
      RunId runId;
      // First "process": runs until it crashes after the first tool result is recorded.
      try (Telemetry t1 =
          Telemetry.create(Optional.of(receiver.endpoint()), "keel-test", Redaction.secrets())) {
        Engine e1 = engine(crashOnce).withObserver(t1.observer());
        runId =
            new Runs(e1)
                .create(
                    Runs.Request.of(
                        "acme", "support-bot", JsonValue.object("goal", "find order " + CANARY)))
                .runId();
        Lease l = store.claim("w1", e1.config().leaseTime(), 1).getFirst();
        assertThatThrownBy(() -> RunExecution.load(e1, l, e1.ticker().getAsLong()).run())
            .hasMessageContaining("simulated crash");
      }
      // The first worker is gone; its lease lapses and a second "process" takes the run over.
      clock.advance(Duration.ofSeconds(11));
      try (Telemetry t2 =
          Telemetry.create(Optional.of(receiver.endpoint()), "keel-test", Redaction.secrets())) {
        Engine e2 = engine(FaultInjector.NONE).withObserver(t2.observer());
        Lease l = store.claim("w2", e2.config().leaseTime(), 1).getFirst();
        RunExecution.load(e2, l, e2.ticker().getAsLong()).run();
        assertThat(new Runs(e2).state(runId).status()).isEqualTo(RunStatus.COMPLETED);
      }

      List<Span> spans = receiver.spans;
      assertThat(receiver.contentTypes).allMatch(c -> c.startsWith("application/x-protobuf"));
      // One trace, derived from the run id.
      Set<String> traces = new HashSet<>();
      spans.forEach(s -> traces.add(hex(s.getTraceId())));
      assertThat(traces).containsExactly(RunTraceIds.of(runId.value()));

      // One invoke_agent root per claimed execution: the crashed one and the resumed one.
      List<Span> agents = receiver.named("invoke_agent ");
      assertThat(agents).hasSize(2);
      assertThat(agents).allMatch(s -> s.getName().equals("invoke_agent support-bot"));
      assertThat(agents).allMatch(s -> s.getParentSpanId().isEmpty());
      assertThat(agents).allMatch(s -> s.getKind() == Span.SpanKind.SPAN_KIND_INTERNAL);
      assertThat(agents.stream().map(s -> str(s, "keel.worker.id")))
          .containsExactlyInAnyOrder("w1", "w2");
      assertThat(agents.stream().map(s -> str(s, "keel.execution.outcome")))
          .containsExactlyInAnyOrder("failed", "ended");
      assertThat(agents).allMatch(s -> str(s, "gen_ai.operation.name").equals("invoke_agent"));
      assertThat(agents).allMatch(s -> str(s, "gen_ai.conversation.id").equals(runId.value()));
      Set<ByteString> agentIds = new HashSet<>();
      agents.forEach(a -> agentIds.add(a.getSpanId()));
      // Agent span ids are derived from run and lease epoch; the resumed one links to the crashed.
      Span crashedAgent =
          agents.stream().filter(a -> str(a, "keel.worker.id").equals("w1")).findFirst().get();
      Span resumedAgent =
          agents.stream().filter(a -> str(a, "keel.worker.id").equals("w2")).findFirst().get();
      assertThat(hex(crashedAgent.getSpanId()))
          .isEqualTo(RunTraceIds.agentSpan(runId.value(), num(crashedAgent, "keel.lease.epoch")));
      assertThat(crashedAgent.getLinksList()).isEmpty();
      assertThat(resumedAgent.getLinksList()).hasSize(1);
      assertThat(resumedAgent.getLinks(0).getSpanId()).isEqualTo(crashedAgent.getSpanId());
      assertThat(resumedAgent.getLinks(0).getTraceId()).isEqualTo(crashedAgent.getTraceId());
      // Queue delay: claimed as soon as created; then 1 s after the crashed lease (10 s) lapsed.
      assertThat(num(crashedAgent, "keel.queue.delay_ms")).isZero();
      assertThat(num(resumedAgent, "keel.queue.delay_ms")).isEqualTo(1000);

      // Model calls: three steps (tool, tool, answer), each a CLIENT child of an agent span.
      List<Span> chats = receiver.named("chat ");
      assertThat(chats).hasSize(3);
      for (Span c : chats) {
        assertThat(c.getName()).isEqualTo("chat gpt-4o-mini");
        assertThat(c.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
        assertThat(agentIds).contains(c.getParentSpanId());
        assertThat(str(c, "gen_ai.operation.name")).isEqualTo("chat");
        assertThat(str(c, "gen_ai.provider.name")).isEqualTo("openai");
        assertThat(str(c, "gen_ai.request.model")).isEqualTo("gpt-4o-mini");
        assertThat(num(c, "gen_ai.usage.input_tokens")).isEqualTo(120);
        assertThat(num(c, "gen_ai.usage.output_tokens")).isEqualTo(30);
        assertThat(c.getEndTimeUnixNano()).isGreaterThanOrEqualTo(c.getStartTimeUnixNano());
      }
      assertThat(chats.stream().map(c -> finish(c)))
          .containsExactlyInAnyOrder("tool_calls", "tool_calls", "stop");

      // Tool executions: two lookups (the crash came after the first result was recorded, so the
      // resumed execution does not repeat it).
      List<Span> tools = receiver.named("execute_tool ");
      assertThat(tools).hasSize(2);
      for (Span t : tools) {
        assertThat(t.getName()).isEqualTo("execute_tool orders.lookup");
        assertThat(agentIds).contains(t.getParentSpanId());
        assertThat(str(t, "gen_ai.tool.name")).isEqualTo("orders.lookup");
        assertThat(str(t, "gen_ai.tool.call.id")).isNotEmpty();
      }
      // Checkpoints: one per step after the first, children of the resumed agent span.
      assertThat(receiver.named("checkpoint")).isNotEmpty();
      assertThat(receiver.named("checkpoint"))
          .allMatch(s -> agentIds.contains(s.getParentSpanId()));

      // No span carries the canary secret from the input or the tool result.
      for (byte[] body : receiver.bodies) {
        assertThat(new String(body, StandardCharsets.ISO_8859_1)).doesNotContain(CANARY);
      }
      assertThat(store.events(runId, 0, 1000).toString()).doesNotContain(CANARY);
    }
  }

  private Engine engine(FaultInjector faults) {
    Tool lookup =
        new Tool() {
          final ToolSpec spec =
              ToolSpec.builder("orders.lookup")
                  .riskLevel(0)
                  .idempotency(Idempotency.NATURAL)
                  .build();

          @Override
          public ToolSpec spec() {
            return spec;
          }

          @Override
          public ToolResult invoke(ToolInvocation inv) {
            return new ToolResult.Success(
                JsonValue.object("status", "shipped", "note", "api key " + CANARY));
          }
        };
    AgentSpec agent =
        new AgentSpec(
            "support-bot",
            "1",
            "You help customers.",
            "gpt-4o-mini",
            List.of("orders.lookup"),
            Budget.DEFAULT,
            256);
    return new Engine(
        store,
        AgentCatalog.of(List.of(agent)),
        new ThreeStepModel(),
        m -> Pricing.FREE,
        new ToolRegistry(List.of(lookup)),
        ToolPolicy.byRiskLevel(),
        clock,
        IdSource.seeded(7),
        faults,
        EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(10)).withCheckpointEvery(1),
        () -> clock.instant().truncatedTo(ChronoUnit.NANOS).toEpochMilli() * 1_000_000L);
  }

  /** Two tool steps, then an answer; stateless, so a resumed run gets the same replies. */
  static final class ThreeStepModel implements ModelProvider {
    @Override
    public String name() {
      return "three-step";
    }

    @Override
    public ModelResponse complete(ModelRequest request) {
      for (Message m : request.messages()) {
        assertThat(m.toString()).doesNotContain(CANARY);
      }
      long step =
          1 + request.messages().stream().filter(Message.Assistant.class::isInstance).count();
      TokenUsage u = TokenUsage.of(120, 30);
      if (step <= 2) {
        return new ModelResponse(
            "gpt-4o-mini-2024-07-18",
            "",
            List.of(new ToolCallRequest("c" + step, "orders.lookup", JsonValue.object("id", 42L))),
            u,
            FinishReason.TOOL_CALLS);
      }
      return new ModelResponse(
          "gpt-4o-mini-2024-07-18", "shipped", List.of(), u, FinishReason.STOP);
    }
  }

  private static String hex(ByteString b) {
    return HexFormat.of().formatHex(b.toByteArray());
  }

  private static String str(Span s, String key) {
    return s.getAttributesList().stream()
        .filter(kv -> kv.getKey().equals(key))
        .map(kv -> kv.getValue().getStringValue())
        .findFirst()
        .orElse("");
  }

  private static long num(Span s, String key) {
    return s.getAttributesList().stream()
        .filter(kv -> kv.getKey().equals(key))
        .map(kv -> kv.getValue().getIntValue())
        .findFirst()
        .orElse(-1L);
  }

  private static String finish(Span s) {
    for (KeyValue kv : s.getAttributesList()) {
      if (kv.getKey().equals("gen_ai.response.finish_reasons")) {
        return kv.getValue().getArrayValue().getValues(0).getStringValue();
      }
    }
    return "";
  }
}
