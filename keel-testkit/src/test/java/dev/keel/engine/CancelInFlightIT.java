package dev.keel.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Cancelling a run while a tool call is in flight stops the call and the run, and says why. */
class CancelInFlightIT {
  @Test
  void cancelInterruptsTheToolInFlightAndRecordsWhy() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    Tool slow =
        new Tool() {
          final ToolSpec spec =
              ToolSpec.builder("ops.wait")
                  .idempotency(Idempotency.KEYED)
                  .timeout(Duration.ofMinutes(5))
                  .build();

          @Override
          public ToolSpec spec() {
            return spec;
          }

          @Override
          public ToolResult invoke(ToolInvocation inv) throws InterruptedException {
            started.countDown();
            try {
              Thread.sleep(Duration.ofMinutes(1));
            } catch (InterruptedException x) {
              interrupted.set(true);
              throw x;
            }
            return new ToolResult.Success(JsonValue.NULL);
          }
        };
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    AgentSpec agent =
        new AgentSpec("ops", "1", "wait", "scripted", List.of("ops.wait"), Budget.DEFAULT, 64);
    Engine engine =
        Engine.of(
            store,
            AgentCatalog.of(List.of(agent)),
            ScriptedModel.of(ScriptedModel.loop("ops.wait", JsonValue.object(), 1)),
            m -> Pricing.FREE,
            new ToolRegistry(List.of(slow)),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofMillis(300)));
    RunId id =
        new Runs(engine)
            .create(Runs.Request.of("t", "ops", JsonValue.object("goal", "wait")))
            .runId();
    try (RunWorker worker = new RunWorker(engine, "w1", x -> {})) {
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      long t0 = System.nanoTime();
      store.signal("t", id, new SignalPayload.Cancel("customer withdrew the request", "ann"));
      while (!new Runs(engine).state(id).status().terminal()
          && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
        Thread.sleep(20);
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      RunState s = new Runs(engine).state(id);
      assertThat(s.status()).isEqualTo(RunStatus.CANCELLED);
      assertThat(millis).as("stopped long before the tool's minute was up").isLessThan(5_000);
      assertThat(interrupted).isTrue();
      assertThat(s.error().orElseThrow().message()).isEqualTo("customer withdrew the request");
      assertThat(store.events(id, 0, 100))
          .anyMatch(
              e ->
                  e.event() instanceof RunEvent.ToolCallFailed f
                      && f.errorType().equals("cancelled"));
    }
  }
}
