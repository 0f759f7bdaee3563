package dev.keel.app;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.run.Budget;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.RunRow;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A synthetic probe: every {@code interval} it starts a tiny run of the {@code keel-probe} agent
 * (tenant {@code keel-probe}, no tools, answered in-process without a provider) through the real
 * store and workers. A probe run that has not completed within {@code deadline} makes {@code
 * /readyz} fail, sets the gauge {@code keel_probe_overdue} to 1 and counts once as {@code
 * keel_probe_runs_total{outcome="overdue"}} (finished probe runs count as {@code completed} or
 * {@code failed}), so a silently stuck worker is noticed by a probe of {@code /readyz} and by an
 * alert on the metrics alike.
 */
final class SyntheticProbe implements AutoCloseable {
  static final String AGENT = "keel-probe";
  static final String TENANT = "keel-probe";
  static final String MODEL = "keel-probe";

  private final Engine engine;
  private final Duration interval;
  private final Duration deadline;
  private final MeterRegistry registry;
  private final AtomicReference<Optional<Pending>> last = new AtomicReference<>(Optional.empty());
  private final Thread thread;

  private record Pending(
      RunId runId, Instant createdAt, java.util.concurrent.atomic.AtomicBoolean overdue) {}

  SyntheticProbe(Engine engine, Duration interval, Duration deadline, MeterRegistry registry) {
    this.engine = engine;
    this.interval = interval;
    this.deadline = deadline;
    this.registry = registry;
    io.micrometer.core.instrument.Gauge.builder(
            "keel.probe.overdue", this, p -> p.problem().isPresent() ? 1 : 0)
        .description("1 while the newest probe run is past its deadline: no worker advances runs")
        .strongReference(true)
        .register(registry);
    this.thread = Thread.ofVirtual().name("keel-probe").start(this::loop);
  }

  /** The probe agent: no tools, a small budget. */
  static AgentSpec agent() {
    return new AgentSpec(
        AGENT,
        "1",
        "Answer ok.",
        MODEL,
        List.of(),
        new Budget(2, 1, 1, 1000, Duration.ofMinutes(5)),
        8);
  }

  /** {@code base} plus the probe agent. */
  static AgentCatalog catalog(AgentCatalog base) {
    return KeelRuntime.layered(base, AgentCatalog.of(List.of(agent())));
  }

  /** {@code delegate}, except that the probe's model answers {@code ok} in-process. */
  static ModelProvider model(ModelProvider delegate) {
    return new ModelProvider() {
      @Override
      public String name() {
        return delegate.name();
      }

      @Override
      public ModelResponse complete(dev.keel.model.ModelRequest request) {
        if (request.model().equals(MODEL)) {
          return new ModelResponse(MODEL, "ok", List.of(), TokenUsage.ZERO, FinishReason.STOP);
        }
        return delegate.complete(request);
      }

      @Override
      public dev.keel.model.ModelCall completeFor(
          dev.keel.model.ModelRequest request, dev.keel.model.ModelCallContext context) {
        if (request.model().equals(MODEL)) {
          return ModelProvider.super.completeFor(request, context);
        }
        return delegate.completeFor(request, context);
      }
    };
  }

  private void loop() {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        tick();
        Thread.sleep(interval);
      } catch (InterruptedException x) {
        return;
      } catch (RuntimeException x) {
        registry.counter("keel.probe.runs", "outcome", "error").increment();
        try {
          Thread.sleep(interval);
        } catch (InterruptedException y) {
          return;
        }
      }
    }
  }

  /** Settles the last probe run if it finished, and starts a new one when none is pending. */
  void tick() {
    Optional<Pending> p = last.get();
    if (p.isPresent()) {
      Optional<RunRow> row = engine.store().row(p.get().runId());
      RunStatus s = row.map(RunRow::status).orElse(RunStatus.FAILED);
      if (!s.terminal()) {
        // counted once, when it is first seen past its deadline
        if (problem().isPresent() && p.get().overdue().compareAndSet(false, true)) {
          registry.counter("keel.probe.runs", "outcome", "overdue").increment();
        }
        return;
      }
      registry
          .counter("keel.probe.runs", "outcome", s == RunStatus.COMPLETED ? "completed" : "failed")
          .increment();
    }
    RunId id =
        new Runs(engine)
            .create(Runs.Request.of(TENANT, AGENT, JsonValue.object("goal", "probe")))
            .runId();
    last.set(
        Optional.of(
            new Pending(id, Instant.now(), new java.util.concurrent.atomic.AtomicBoolean())));
  }

  /** Empty when the newest probe run is on time, otherwise what is wrong. */
  Optional<String> problem() {
    Optional<Pending> p = last.get();
    if (p.isEmpty()) {
      return Optional.empty();
    }
    Duration age = Duration.between(p.get().createdAt(), Instant.now());
    if (age.compareTo(deadline) <= 0) {
      return Optional.empty();
    }
    RunStatus s = engine.store().row(p.get().runId()).map(RunRow::status).orElse(RunStatus.FAILED);
    if (s == RunStatus.COMPLETED) {
      return Optional.empty();
    }
    return Optional.of(
        "synthetic probe run "
            + p.get().runId()
            + " is "
            + s.wire()
            + " after "
            + age.toSeconds()
            + " s (deadline "
            + deadline.toSeconds()
            + " s): no worker is advancing runs");
  }

  @Override
  public void close() {
    thread.interrupt();
  }
}
