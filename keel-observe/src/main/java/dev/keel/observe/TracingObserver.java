package dev.keel.observe;

import dev.keel.engine.EngineObserver;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.redact.Redaction;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunState;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Turns executions into OpenTelemetry spans following the GenAI semantic conventions: one {@code
 * invoke_agent {agent}} span per claimed execution, a root in the run's deterministic trace (see
 * {@link RunTraceIds}), with children {@code chat {model}}, {@code execute_tool {tool}}, {@code
 * checkpoint}, {@code await_approval {tool}} and {@code approval_decided}. Every string attribute
 * passes through the redaction layer; no message content is exported.
 */
public final class TracingObserver implements EngineObserver {
  private final Tracer tracer;
  private final Redaction redaction;
  private final Function<String, String> providerOf;
  private final Map<String, Span> agents = new ConcurrentHashMap<>();
  private final Map<String, Long> queuedMillis = new ConcurrentHashMap<>();

  /**
   * A tracing observer.
   *
   * @param tracer where spans go; its provider must use {@link RunTraceIds} as id generator
   * @param redaction masks every string attribute
   * @param providerOf the {@code gen_ai.provider.name} of a model name
   */
  public TracingObserver(Tracer tracer, Redaction redaction, Function<String, String> providerOf) {
    this.tracer = tracer;
    this.redaction = redaction;
    this.providerOf = providerOf;
  }

  @Override
  public void executionQueued(RunState state, java.time.Duration waited) {
    queuedMillis.put(state.runId().value(), waited.toMillis());
  }

  @Override
  public void executionStarted(RunState state, String workerId, long epoch) {
    String runId = state.runId().value();
    String agent = state.header().agentName();
    SpanBuilder b =
        tracer
            .spanBuilder("invoke_agent " + agent)
            .setNoParent()
            .setSpanKind(SpanKind.INTERNAL)
            .setAttribute(GenAi.OPERATION, "invoke_agent")
            .setAttribute(GenAi.AGENT_NAME, agent)
            .setAttribute(GenAi.AGENT_ID, agent)
            .setAttribute(GenAi.AGENT_VERSION, state.header().agentVersion())
            .setAttribute(GenAi.CONVERSATION_ID, state.header().threadId().orElse(runId))
            .setAttribute(GenAi.SESSION_ID, state.header().threadId().orElse(runId))
            .setAttribute(GenAi.RUN_ID, runId)
            .setAttribute(GenAi.TENANT, state.header().tenant())
            .setAttribute(GenAi.WORKER, workerId)
            .setAttribute(GenAi.EPOCH, epoch);
    Long queued = queuedMillis.remove(runId);
    if (queued != null) {
      b.setAttribute(GenAi.QUEUE_DELAY_MS, queued);
    }
    if (epoch > 1) {
      // the previous execution's agent span: ended, or lost with a killed process, either way its
      // children name it as their parent
      b.addLink(
          SpanContext.create(
              RunTraceIds.of(runId),
              RunTraceIds.agentSpan(runId, epoch - 1),
              TraceFlags.getSampled(),
              TraceState.getDefault()),
          Attributes.of(
              AttributeKey.stringKey("keel.link.type"),
              "previous_execution",
              GenAi.EPOCH,
              epoch - 1));
    }
    RunTraceIds.use(runId, epoch);
    try {
      Span old = agents.put(runId, b.startSpan());
      if (old != null) {
        old.end();
      }
    } finally {
      RunTraceIds.clear();
    }
  }

  @Override
  public void executionEnded(RunState state, String how) {
    Span span = agents.remove(state.runId().value());
    if (span == null) {
      return;
    }
    span.setAttribute(GenAi.OUTCOME, how);
    span.setAttribute(GenAi.STATUS, state.status().wire());
    span.setAttribute(GenAi.INPUT_TOKENS, state.usage().inputTokens());
    span.setAttribute(GenAi.OUTPUT_TOKENS, state.usage().outputTokens());
    span.setAttribute(GenAi.COST_MICROS, state.usage().costMicros());
    if (how.equals("failed") || state.error().isPresent()) {
      String type = state.error().map(dev.keel.run.RunError::code).orElse(how);
      span.setAttribute(GenAi.ERROR_TYPE, type);
      span.setStatus(StatusCode.ERROR, text(state.error().map(e -> e.message()).orElse(how)));
    }
    span.end();
  }

  @Override
  public void modelCalled(RunState state, ModelCall call) {
    Span parent = agents.get(state.runId().value());
    if (parent == null) {
      return;
    }
    String provider = providerOf.apply(call.model());
    Span span =
        child(parent, "chat " + call.model(), SpanKind.CLIENT, call.nanos())
            .setAttribute(GenAi.OPERATION, "chat")
            .setAttribute(GenAi.PROVIDER, provider)
            .setAttribute(GenAi.SYSTEM, provider)
            .setAttribute(GenAi.REQUEST_MODEL, call.model())
            .setAttribute(GenAi.REQUEST_MAX_TOKENS, (long) call.request().maxOutputTokens())
            .setAttribute(GenAi.STEP, (long) call.step())
            .setAttribute(GenAi.ATTEMPTS, (long) call.attempts())
            .startSpan();
    if (call.response().isPresent()) {
      ModelResponse r = call.response().get();
      TokenUsage u = r.usage();
      span.setAttribute(GenAi.RESPONSE_MODEL, r.model());
      span.setAttribute(GenAi.FINISH_REASONS, List.of(finish(r.finishReason())));
      span.setAttribute(GenAi.INPUT_TOKENS, u.inputTokens());
      span.setAttribute(GenAi.OUTPUT_TOKENS, u.outputTokens());
      span.setAttribute(GenAi.CACHE_READ_TOKENS, u.cachedInputTokens());
      span.setAttribute(GenAi.REASONING_TOKENS, u.reasoningTokens());
      span.setAttribute(GenAi.COST_MICROS, call.costMicros());
    } else {
      span.setAttribute(GenAi.ERROR_TYPE, "model_error");
      span.setStatus(StatusCode.ERROR, text(call.error().orElse("model error")));
    }
    span.end();
  }

  @Override
  public void toolInvoked(RunState state, ToolCall call) {
    Span parent = agents.get(state.runId().value());
    if (parent == null) {
      return;
    }
    Span span =
        child(parent, "execute_tool " + call.tool(), SpanKind.INTERNAL, call.nanos())
            .setAttribute(GenAi.OPERATION, "execute_tool")
            .setAttribute(GenAi.TOOL_NAME, call.tool())
            .setAttribute(GenAi.TOOL_CALL_ID, call.callId())
            .setAttribute(GenAi.TOOL_TYPE, "function")
            .setAttribute(GenAi.ATTEMPTS, (long) call.attempt())
            .startSpan();
    if (call.result() instanceof RunEvent.ToolCallFailed f) {
      span.setAttribute(GenAi.ERROR_TYPE, f.errorType());
      span.setStatus(StatusCode.ERROR, text(f.message()));
    }
    span.end();
  }

  @Override
  public void checkpointWritten(RunState state, int step, long nanos) {
    Span parent = agents.get(state.runId().value());
    if (parent == null) {
      return;
    }
    child(parent, "checkpoint", SpanKind.INTERNAL, nanos)
        .setAttribute(GenAi.STEP, (long) step)
        .startSpan()
        .end();
  }

  @Override
  public void committed(RunState state, List<EventEnvelope> events, long nanos) {
    Span parent = agents.get(state.runId().value());
    if (parent == null) {
      return;
    }
    for (EventEnvelope env : events) {
      switch (env.event()) {
        case RunEvent.ApprovalRequested a ->
            child(parent, "await_approval " + a.tool(), SpanKind.INTERNAL, 0)
                .setAttribute(GenAi.APPROVAL_ID, a.approvalId())
                .setAttribute(GenAi.TOOL_NAME, a.tool())
                .setAttribute(GenAi.TOOL_CALL_ID, a.callId())
                .setAttribute(AttributeKey.stringKey("keel.approval.kind"), a.kind())
                .setAttribute(AttributeKey.longKey("keel.tool.risk_level"), (long) a.riskLevel())
                .startSpan()
                .end();
        case RunEvent.ApprovalResolved r ->
            child(parent, "approval_decided", SpanKind.INTERNAL, 0)
                .setAttribute(GenAi.APPROVAL_ID, r.approvalId())
                .setAttribute(GenAi.DECISION, r.decision())
                .setAttribute(
                    AttributeKey.stringKey("keel.approval.decided_by"), text(r.decidedBy()))
                .startSpan()
                .end();
        case RunEvent.ToolCallProposed p when p.verdict().equals("deny") ->
            parent.addEvent(
                "tool_call_blocked",
                io.opentelemetry.api.common.Attributes.of(
                    GenAi.TOOL_NAME,
                    p.tool(),
                    AttributeKey.stringKey("keel.reason"),
                    text(p.reason())));
        default -> {}
      }
    }
  }

  private SpanBuilder child(Span parent, String name, SpanKind kind, long nanos) {
    Instant end = Instant.now();
    long endNanos = end.getEpochSecond() * 1_000_000_000L + end.getNano();
    return tracer
        .spanBuilder(name)
        .setParent(Context.root().with(parent))
        .setSpanKind(kind)
        .setStartTimestamp(endNanos - Math.max(0, nanos), TimeUnit.NANOSECONDS);
  }

  private String text(String s) {
    return redaction.redact(s);
  }

  private static String finish(FinishReason r) {
    return r.name().toLowerCase(Locale.ROOT);
  }
}
