package dev.keel.observe;

import dev.keel.engine.EngineObserver;
import dev.keel.json.JsonValue;
import dev.keel.model.TokenUsage;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Engine metrics in Micrometer: run outcomes, executions and resumes (and whether each resumed
 * execution succeeded), latency histograms of steps, model calls, tool calls, checkpoints and
 * commits, tokens and cost by model, provider fallbacks, tool timeouts, blocked tool calls,
 * approval decisions and denials, and queue delay. Names follow Micrometer's dotted style; the
 * Prometheus registry renders them as {@code keel_..._total}, {@code _seconds_bucket} and so on,
 * the OTLP registry keeps the dots.
 */
public final class MetricsObserver implements EngineObserver {
  private final MeterRegistry registry;
  private final Function<String, String> providerOf;
  private final Map<String, Long> lastModelEnd = new ConcurrentHashMap<>();
  private final Map<String, Boolean> resumed = new ConcurrentHashMap<>();

  /**
   * A metrics observer.
   *
   * @param registry where meters go
   * @param providerOf the provider of a model name
   */
  public MetricsObserver(MeterRegistry registry, Function<String, String> providerOf) {
    this.registry = registry;
    this.providerOf = providerOf;
  }

  @Override
  public void executionStarted(RunState state, String workerId, long epoch) {
    String agent = state.header().agentName();
    boolean first = state.status() == RunStatus.QUEUED;
    resumed.put(state.runId().value(), !first);
    counter("keel.executions.started", "agent", agent, "kind", first ? "first" : "resume")
        .increment();
  }

  /**
   * Records the queue delay of every claimed execution, tagged with why the run had become
   * claimable, as far as its state at the claim tells: {@code created} (never run), {@code resumed}
   * (paused), {@code decided} (it waited on an approval or a question), {@code woken} (it waited on
   * a timer, a sub-run or something outside) and {@code requeued} (it was running: handed back by a
   * draining or failing worker, or its lease lapsed).
   */
  @Override
  public void executionQueued(RunState state, Duration waited) {
    String cause =
        switch (state.status()) {
          case QUEUED -> "created";
          case PAUSED -> "resumed";
          case WAITING -> state.approvals().isEmpty() ? "woken" : "decided";
          default -> "requeued";
        };
    timer("keel.queue.delay", "agent", state.header().agentName(), "cause", cause).record(waited);
  }

  @Override
  public void executionEnded(RunState state, String how) {
    lastModelEnd.remove(state.runId().value());
    String agent = state.header().agentName();
    counter("keel.executions.ended", "agent", agent, "how", how).increment();
    if (Boolean.TRUE.equals(resumed.remove(state.runId().value()))) {
      // a resumed execution succeeded if it got the run to an end or to a clean hand-back
      boolean ok = how.equals("ended") || how.equals("released");
      counter("keel.resumes", "agent", agent, "outcome", ok ? "success" : "failure").increment();
    }
  }

  @Override
  public void modelCalled(RunState state, ModelCall call) {
    String model = call.model();
    String provider = providerOf.apply(model);
    String outcome = call.response().isPresent() ? "ok" : "error";
    timer("keel.model.call", "model", model, "provider", provider, "outcome", outcome)
        .record(Duration.ofNanos(call.nanos()));
    long now = System.nanoTime();
    Long last = lastModelEnd.put(state.runId().value(), now);
    if (last != null) {
      timer("keel.step", "agent", state.header().agentName()).record(Duration.ofNanos(now - last));
    }
    if (call.response().isPresent()) {
      TokenUsage u = call.response().get().usage();
      tokens(model, "input").record(u.inputTokens());
      tokens(model, "output").record(u.outputTokens());
      counter("keel.tokens", "model", model, "type", "input").increment(u.inputTokens());
      counter("keel.tokens", "model", model, "type", "output").increment(u.outputTokens());
      counter("keel.cost.micros", "model", model).increment(call.costMicros());
    }
  }

  @Override
  public void toolInvoked(RunState state, ToolCall call) {
    String outcome =
        switch (call.result()) {
          case RunEvent.ToolCallFailed f -> f.errorType();
          default -> "ok";
        };
    timer("keel.tool.call", "tool", call.tool(), "outcome", outcome)
        .record(Duration.ofNanos(call.nanos()));
    if (outcome.equals("timeout")) {
      counter("keel.tool.timeouts", "tool", call.tool()).increment();
    }
  }

  @Override
  public void checkpointWritten(RunState state, int step, long nanos) {
    timer("keel.checkpoint.write").record(Duration.ofNanos(nanos));
  }

  @Override
  public void committed(RunState state, List<EventEnvelope> events, long nanos) {
    timer("keel.commit").record(Duration.ofNanos(nanos));
    String agent = state.header().agentName();
    for (EventEnvelope env : events) {
      switch (env.event()) {
        case RunEvent.ToolCallProposed p when p.verdict().equals("deny") ->
            counter("keel.tool.blocked", "tool", p.tool()).increment();
        case RunEvent.ApprovalResolved r -> {
          counter("keel.approvals.decided", "decision", r.decision()).increment();
          if (r.decision().equals("denied")) {
            counter("keel.approvals.denied", "agent", agent).increment();
          }
        }
        case RunEvent.DecisionRecorded d when d.action().equals("model_routed") ->
            fallback(d.summary());
        case RunEvent.ApprovalRequested a ->
            counter("keel.approvals.requested", "tool", a.tool()).increment();
        case RunEvent.BudgetExceeded b ->
            counter("keel.budget.exceeded", "limit", b.limit()).increment();
        case RunEvent.RunCompleted c -> outcome(agent, "completed");
        case RunEvent.RunFailed f -> outcome(agent, "failed");
        case RunEvent.RunCancelled c -> outcome(agent, "cancelled");
        case RunEvent.RunTimedOut t -> outcome(agent, "timed_out");
        default -> {}
      }
    }
  }

  /**
   * Counts a provider fallback: a routing summary marked {@code fallback} (the answer did not come
   * from the route's primary target) names the route, the primary and the target that answered.
   */
  private void fallback(JsonValue.JsonObject routing) {
    if (routing.get("fallback").orElse(JsonValue.NULL) instanceof JsonValue.JsonBool b
        && b.value()) {
      counter(
              "keel.model.fallbacks",
              "route",
              routing.string("route").orElse("unknown"),
              "from",
              routing.string("primary").orElse("unknown"),
              "to",
              routing.string("served_by").orElse("unknown"))
          .increment();
    }
  }

  private void outcome(String agent, String outcome) {
    counter("keel.runs.finished", "agent", agent, "outcome", outcome).increment();
  }

  private Counter counter(String name, String... tags) {
    return Counter.builder(name).tags(tags).register(registry);
  }

  private Timer timer(String name, String... tags) {
    return Timer.builder(name)
        .tags(tags)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofMinutes(5))
        .register(registry);
  }

  private DistributionSummary tokens(String model, String type) {
    return DistributionSummary.builder("gen_ai.client.token.usage")
        .baseUnit("tokens")
        .tags("gen_ai.request.model", model, "gen_ai.token.type", type)
        .publishPercentileHistogram()
        .register(registry);
  }
}
