package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.run.Budget;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.RunRow;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Sub-agents: a parent spawns a child run with a budget slice and waits for it durably. */
class SubAgentTest {
  private static final List<String> TOOLS =
      List.of("shop.lookup", "shop.charge", "shop.email", "shop.push");

  private static AgentSpec parent() {
    return AgentSpec.builder("shop")
        .instructions("You delegate.", "1")
        .tools(TOOLS)
        .budget(EngineTest.BUDGET)
        .maxOutputTokens(256)
        .capabilities(Set.of("spawn"))
        .build();
  }

  private static AgentSpec child(String name, List<String> tools, String instructions) {
    return AgentSpec.builder(name)
        .instructions(instructions, "1")
        .tools(tools)
        .budget(new Budget(8, 8, 8, 1_000_000, Duration.ofHours(1)))
        .maxOutputTokens(128)
        .capabilities(Set.of("finish"))
        .build();
  }

  private static String system(ModelRequest r) {
    return ((Message.System) r.messages().getFirst()).text();
  }

  private static String lastResult(ModelRequest r) {
    return r.messages().getLast() instanceof Message.ToolResult t ? t.content().toString() : "";
  }

  /** The parent spawns {@code agent} with {@code budget}; children follow their instructions. */
  private static ScriptedModel.Script script(String agent, JsonValue.JsonObject budget) {
    return (req, step) -> {
      String sys = system(req);
      if (sys.startsWith("You look things up.")) {
        return step == 1
            ? calls(call("l", "shop.lookup", JsonValue.object("order", "A-1")))
            : text("found A-1");
      }
      if (sys.startsWith("You give up.")) {
        return calls(call("f", Decision.FAIL, JsonValue.object("reason", "cannot find it")));
      }
      if (sys.startsWith("You charge.")) {
        return step == 1 ? calls(call("c", "shop.charge", JsonValue.object())) : text("charged");
      }
      return step == 1
          ? calls(
              call(
                  "s",
                  Decision.SPAWN,
                  JsonValue.object("agent", agent, "goal", "find A-1", "budget", budget)))
          : text("child said: " + lastResult(req));
    };
  }

  private static Harness harness(ScriptedModel.Script script, FaultInjector faults) {
    return new Harness(
        ScriptedModel.of(script),
        List.of(
            parent(),
            child("helper", List.of("shop.lookup"), "You look things up."),
            child("quitter", List.of(), "You give up."),
            child("charger", List.of("shop.charge"), "You charge."),
            child("rogue", List.of("shop.lookup", "bank.wire"), "You look things up.")),
        EngineTest.BUDGET,
        faults,
        new Harness.InMemoryRunStoreFactory());
  }

  /** Runs every claimable run; lets time pass (polls, lapsed leases) until nothing is left. */
  private static void settle(Harness h) throws InterruptedException {
    for (int idle = 0, guard = 0; idle < 3 && guard < 500; guard++) {
      List<Lease> leases = h.store.claim("w1", h.engine.config().leaseTime(), 100);
      if (leases.isEmpty()) {
        idle++;
        h.clock.advance(Duration.ofSeconds(11));
        continue;
      }
      idle = 0;
      for (Lease l : leases) {
        try {
          RunExecution.load(h.engine, l, h.engine.ticker().getAsLong()).run();
        } catch (LeaseLostException | DecisionLoopTest.Crash ignored) {
          // the worker died here; its lease lapses
        }
      }
    }
  }

  private static List<RunRow> children(Harness h, RunId parent) {
    return h.store.rows().stream()
        .filter(
            r ->
                h.runs
                    .state(r.runId())
                    .header()
                    .parentRunId()
                    .equals(java.util.Optional.of(parent.value())))
        .toList();
  }

  private static List<RunEvent> events(Harness h, RunId id) {
    return h.store.events(id, 0, 10_000).stream().map(EventEnvelope::event).toList();
  }

  @Test
  void theParentWaitsDurablyAndGetsTheChildsOutputAndCost() throws Exception {
    Harness h =
        harness(script("helper", JsonValue.object("max_model_calls", 5L)), FaultInjector.NONE);
    RunId id = h.start("delegate");
    // the parent releases its lease to wait; the child's end wakes it (0025), so no clock time
    // has to pass for the parent to finish
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text").orElseThrow())
        .contains("found A-1")
        .contains("completed");
    List<RunRow> kids = children(h, id);
    assertThat(kids).hasSize(1);
    RunState child = h.runs.state(kids.getFirst().runId());
    assertThat(child.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(child.header().agentName()).isEqualTo("helper");
    assertThat(child.header().budget().maxModelCalls()).isEqualTo(5);
    assertThat(child.header().budget().maxSteps())
        .isLessThanOrEqualTo(EngineTest.BUDGET.maxSteps() - 1);
    // one cost roll-up: the parent's usage includes the child's two model calls and its tool call
    assertThat(s.usage().modelCalls()).isEqualTo(2 + child.usage().modelCalls());
    assertThat(s.usage().toolCalls()).isEqualTo(1);
    assertThat(events(h, id))
        .extracting(RunEvent::type)
        .contains("subrun.spawned", "run.waiting", "subrun.finished");
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void childrenSpawnedTogetherShareWhatTheParentHasLeftAndNeverExceedIt() throws Exception {
    ScriptedModel.Script twice =
        (req, step) -> {
          String sys = system(req);
          if (sys.startsWith("You look things up.")) {
            return step == 1
                ? calls(call("l", "shop.lookup", JsonValue.object("order", "A-1")))
                : text("found A-1");
          }
          JsonValue.JsonObject ask =
              JsonValue.object("agent", "helper", "goal", "find A-1", "budget", JsonValue.object());
          return step == 1
              ? calls(call("s1", Decision.SPAWN, ask), call("s2", Decision.SPAWN, ask))
              : text("both done");
        };
    Harness h = harness(twice, FaultInjector.NONE);
    RunId id = h.start("delegate");
    h.runUntilIdle();
    RunState waiting = h.state(id);
    long left = EngineTest.BUDGET.maxCostMicros() - waiting.usage().costMicros();
    List<RunEvent.SubrunSpawned> spawned =
        events(h, id).stream()
            .filter(RunEvent.SubrunSpawned.class::isInstance)
            .map(RunEvent.SubrunSpawned.class::cast)
            .toList();
    assertThat(spawned).isNotEmpty();
    long sliced =
        spawned.stream()
            .mapToLong(x -> dev.keel.run.EventCodec.budget(x.budget()).maxCostMicros())
            .sum();
    // the first child takes all that is left (its default is the parent's whole budget), so the
    // second is refused rather than given the same money again
    assertThat(sliced).isPositive().isLessThanOrEqualTo(left);
    assertThat(events(h, id))
        .filteredOn(RunEvent.ToolCallProposed.class::isInstance)
        .map(RunEvent.ToolCallProposed.class::cast)
        .anySatisfy(
            p -> {
              assertThat(p.tool()).isEqualTo(Decision.SPAWN);
              assertThat(p.verdict()).isEqualTo("deny");
              assertThat(p.reason()).contains("no budget left");
            });
    settle(h);
    RunState s = h.state(id);
    assertThat(s.usage().costMicros()).isLessThanOrEqualTo(EngineTest.BUDGET.maxCostMicros());
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void aChildsFailureReachesTheParentAsAValue() throws Exception {
    Harness h = harness(script("quitter", JsonValue.EMPTY_OBJECT), FaultInjector.NONE);
    RunId id = h.start("delegate");
    settle(h);
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text").orElseThrow())
        .contains("subrun_failed")
        .contains("cannot find it");
  }

  @Test
  void cancellingTheParentCancelsItsChild() throws Exception {
    Harness h = harness(script("charger", JsonValue.EMPTY_OBJECT), FaultInjector.NONE);
    RunId id = h.start("delegate");
    h.runUntilIdle();
    h.runUntilIdle();
    RunId child = children(h, id).getFirst().runId();
    assertThat(h.runs.state(child).status()).isEqualTo(RunStatus.WAITING);
    h.store.signal("acme", id, new SignalPayload.Cancel("stop", "bob"));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(h.runs.state(child).status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(h.runs.state(child).error().orElseThrow().message()).contains("parent run");
    assertThat(h.invocations).hasValue(0);
  }

  @Test
  void aChildMayNotHaveToolsTheParentLacksAndUnknownAgentsAreRefused() throws Exception {
    for (String agent : List.of("rogue", "nobody")) {
      Harness h = harness(script(agent, JsonValue.EMPTY_OBJECT), FaultInjector.NONE);
      RunId id = h.start("delegate");
      settle(h);
      RunState s = h.state(id);
      assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(children(h, id)).isEmpty();
      assertThat(s.output().orElseThrow().string("text").orElseThrow())
          .contains(agent.equals("rogue") ? "bank.wire" : "no agent named 'nobody'");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = CrashPoint.class,
      names = {"B16_SUBRUN_SPAWNED", "B17_SUBRUN_FINISHED", "B11_OUTPUT_RECORDED"})
  void aCrashAroundTheSpawnCreatesOneChildAndResumesTheParentOnce(CrashPoint point)
      throws Exception {
    AtomicInteger crashes = new AtomicInteger();
    FaultInjector faults =
        (p, run) -> {
          if (p == point && crashes.getAndIncrement() == 0) {
            throw new DecisionLoopTest.Crash();
          }
        };
    Harness h = harness(script("helper", JsonValue.EMPTY_OBJECT), faults);
    RunId id = h.start("delegate");
    settle(h);
    assertThat(crashes.get()).isPositive();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(children(h, id)).hasSize(1);
    assertThat(events(h, id)).filteredOn(RunEvent.SubrunSpawned.class::isInstance).hasSize(1);
    assertThat(events(h, id)).filteredOn(RunEvent.SubrunFinished.class::isInstance).hasSize(1);
    assertThat(events(h, id)).filteredOn(RunEvent.RunCompleted.class::isInstance).hasSize(1);
    RunId child = children(h, id).getFirst().runId();
    assertThat(events(h, child)).filteredOn(RunEvent.RunCompleted.class::isInstance).hasSize(1);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }
}
