package dev.keel.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An execution that fails unexpectedly gives its run back at once: the worker reports the failure,
 * the run is not left under a lease the worker's heartbeat keeps renewing, and it completes on the
 * next try long before the lease would have lapsed.
 */
class HandBackIT {
  @Test
  void unexpectedFailureHandsTheRunBackInsteadOfOrphaningIt() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    ScriptedModel.Script flaky =
        (request, step) -> {
          if (calls.incrementAndGet() == 1) {
            throw new IllegalStateException("a bug in a provider adapter");
          }
          return ScriptedModel.text("done");
        };
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    AgentSpec agent = new AgentSpec("a", "1", "x", "scripted", List.of(), Budget.DEFAULT, 16);
    Engine engine =
        Engine.of(
            store,
            AgentCatalog.of(List.of(agent)),
            ScriptedModel.of(flaky),
            m -> Pricing.FREE,
            new ToolRegistry(List.of()),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(30)));
    RunId id =
        new Runs(engine).create(Runs.Request.of("t", "a", JsonValue.object("goal", "g"))).runId();
    AtomicInteger failures = new AtomicInteger();
    long t0 = System.nanoTime();
    try (RunWorker worker = new RunWorker(engine, "w1", x -> failures.incrementAndGet())) {
      while (new Runs(engine).state(id).status() != RunStatus.COMPLETED
          && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20)) {
        Thread.sleep(20);
      }
    }
    assertThat(failures).hasValue(1);
    assertThat(new Runs(engine).state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .as("not after the 30 s lease")
        .isLessThan(Duration.ofSeconds(10));
    assertThat(InvariantChecker.check(store)).isEmpty();
  }
}
