package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import dev.keel.run.Budget;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class EngineTest {
  static final Budget BUDGET = new Budget(20, 20, 20, 1_000_000, Duration.ofHours(1));

  private static List<String> types(Harness h, RunId id) {
    return h.store.events(id, 0, 10_000).stream().map(e -> e.event().type()).toList();
  }

  @Test
  void runWithToolStepsCompletesAndEachEffectHappensOnce() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.lookup", JsonValue.object("sku", "A1"), 3)),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("find A1");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text")).contains("done after 3 steps");
    assertThat(s.usage().toolCalls()).isEqualTo(3);
    assertThat(s.usage().modelCalls()).isEqualTo(4);
    assertThat(h.effects.values()).hasSize(3).allMatch(n -> n.get() == 1);
    assertThat(types(h, id))
        .startsWith(
            "run.created",
            "run.started",
            "model.requested",
            "model.responded",
            "decision.recorded",
            "tool.proposed",
            "tool.started",
            "tool.succeeded")
        .endsWith("output.recorded", "run.completed");
    assertThat(h.store.checkpoints(id)).isNotEmpty();
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void riskThreeToolWaitsForApprovalAndRunsOnceApproved() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(call("c1", "shop.charge", JsonValue.object("usd", 5L))),
                    text("charged"))),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("charge me");
    h.runUntilIdle();
    RunState waiting = h.state(id);
    assertThat(waiting.status()).isEqualTo(RunStatus.WAITING);
    assertThat(h.invocations).hasValue(0);
    assertThat(h.store.row(id).orElseThrow().leaseOwner()).isEmpty();
    List<ApprovalRecord> pending = h.store.approvals("acme", Optional.of("pending"), 10);
    assertThat(pending)
        .singleElement()
        .satisfies(a -> assertThat(a.tool()).isEqualTo("shop.charge"));
    assertThat(h.store.decide("other-tenant", decision(pending.getFirst(), "approved"))).isEmpty();
    assertThat(
            h.store.decide("acme", decision(pending.getFirst(), "approved")).orElseThrow().status())
        .isEqualTo("approved");
    assertThat(
            h.store.decide("acme", decision(pending.getFirst(), "denied")).orElseThrow().status())
        .isEqualTo("approved");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.invocations).hasValue(1);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void deniedCallIsRecordedAndTheModelSeesTheDenial() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(call("c1", "shop.charge", JsonValue.object())), text("ok"))),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("charge");
    h.runUntilIdle();
    ApprovalRecord a = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    h.store.decide(
        "acme",
        new SignalPayload.ApprovalDecision(
            a.approvalId(), "denied", "bob", Optional.empty(), "too much"));
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.invocations).hasValue(0);
    assertThat(
            s.messages().stream()
                .filter(m -> m instanceof dev.keel.model.Message.ToolResult)
                .findFirst()
                .orElseThrow()
                .toString())
        .contains("approval_denied")
        .contains("too much");
  }

  @Test
  void waitingRunWakesAtItsDeadlineAndTimesOutExactlyThere() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(call("c1", "shop.charge", JsonValue.object())), text("x"))),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("charge");
    h.runUntilIdle();
    assertThat(h.store.row(id).orElseThrow().readyAt())
        .contains(h.state(id).header().createdAt().plus(BUDGET.maxDuration()));
    h.clock.advance(Duration.ofMinutes(59));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
    h.clock.advance(Duration.ofMinutes(1));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.TIMED_OUT);
    assertThat(h.state(id).error().orElseThrow().message()).startsWith("max_duration_s");
  }

  @Test
  void approvalExpiresOnTheStoreClockAndTheCallFails() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(call("c1", "shop.charge", JsonValue.object())), text("gave up"))),
            new Budget(20, 20, 20, 1_000_000, Duration.ofDays(30)),
            FaultInjector.NONE);
    RunId id = h.start("charge");
    h.runUntilIdle();
    h.clock.advance(Duration.ofDays(8));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.store.approvals("acme", Optional.empty(), 10).getFirst().status())
        .isEqualTo("expired");
    assertThat(h.invocations).hasValue(0);
  }

  @Test
  void runStopsExactlyAtMaxStepsWithTheLimitNamed() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.lookup", JsonValue.object(), 100)),
            new Budget(4, 50, 50, 1_000_000, Duration.ofHours(1)),
            FaultInjector.NONE);
    RunId id = h.start("loop forever");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.TIMED_OUT);
    assertThat(s.step()).isEqualTo(4);
    assertThat(s.usage().toolCalls()).isEqualTo(4);
    assertThat(s.error().orElseThrow().message()).startsWith("max_steps");
    assertThat(types(h, id)).contains("budget.exceeded").endsWith("run.timed_out");
  }

  @Test
  void runStopsAtMaxToolCallsBeforeTheNextCallStarts() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.lookup", JsonValue.object(), 100)),
            new Budget(50, 50, 3, 1_000_000, Duration.ofHours(1)),
            FaultInjector.NONE);
    RunId id = h.start("loop");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.TIMED_OUT);
    assertThat(h.invocations).hasValue(3);
    assertThat(h.state(id).error().orElseThrow().message()).startsWith("max_tool_calls");
  }

  @Test
  void costReservationStopsACallThatCouldOverspend() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.lookup", JsonValue.object(), 100)),
            new Budget(50, 50, 50, 100, Duration.ofHours(1)),
            FaultInjector.NONE);
    Engine priced =
        new Engine(
            h.store,
            h.engine.agents(),
            h.engine.model(),
            m -> new dev.keel.model.Pricing(1_000_000, 1_000_000, 0),
            h.engine.tools(),
            h.engine.policy(),
            h.clock,
            IdSource.seeded(1),
            FaultInjector.NONE,
            h.engine.config(),
            h.engine.ticker());
    RunId id =
        new Runs(priced)
            .create(Runs.Request.of("acme", "shop", JsonValue.object("goal", "g")))
            .runId();
    Lease l = h.store.claim("w", priced.config().leaseTime(), 1).getFirst();
    RunExecution.load(priced, l, priced.ticker().getAsLong()).run();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.TIMED_OUT);
    assertThat(s.usage().modelCalls()).isZero();
    assertThat(s.error().orElseThrow().message()).startsWith("max_cost_usd");
  }

  @Test
  void cancelPauseResumeAndMessagesGoThroughTheInbox() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(call("c1", "shop.charge", JsonValue.object())), text("done"))),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("charge");
    h.runUntilIdle();
    assertThat(h.store.signal("acme", id, new SignalPayload.Pause("ann"))).isPresent();
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.PAUSED);
    h.store.signal("acme", id, new SignalPayload.UserMessage("please hurry", "ann"));
    h.store.signal("acme", id, new SignalPayload.Resume(JsonValue.NULL, "ann"));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
    assertThat(h.store.signal("acme", id, new SignalPayload.Cancel("not needed", "ann")))
        .isPresent();
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.CANCELLED);
    assertThat(s.error().orElseThrow().message()).isEqualTo("not needed");
    assertThat(h.store.signal("acme", id, new SignalPayload.Cancel("again", "ann"))).isEmpty();
    assertThat(h.invocations).hasValue(0);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  /** Thrown by a fault point to stop an in-process execution as a crash would. */
  static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  /** An injector that crashes the first time any run passes {@code point}. */
  private static FaultInjector crashOnceAt(CrashPoint point) {
    Set<CrashPoint> armed = ConcurrentHashMap.newKeySet();
    armed.add(point);
    return (p, r) -> {
      if (armed.remove(p)) {
        throw new Crash();
      }
    };
  }

  @Test
  void crashInTheAmbiguousWindowOfAnUnkeyedToolAsksAPersonInsteadOfRetrying() throws Exception {
    FaultInjector faults = crashOnceAt(CrashPoint.B7_TOOL_EFFECT_DONE);
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(call("c1", "shop.email", JsonValue.object("to", "a@b.c"))),
                    text("sent"))),
            BUDGET,
            faults);
    RunId id = h.start("email");
    assertThatThrownBy(h::runUntilIdle).isInstanceOf(Crash.class);
    assertThat(h.invocations).hasValue(1);
    h.clock.advance(Duration.ofSeconds(11));
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.WAITING);
    assertThat(h.invocations).hasValue(1);
    assertThat(types(h, id)).contains("tool.outcome_unknown");
    ApprovalRecord a = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    assertThat(a.kind()).isEqualTo("outcome_unknown");
    h.store.decide(
        "acme",
        new SignalPayload.ApprovalDecision(
            a.approvalId(), "denied", "ops", Optional.empty(), "it was sent"));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.invocations).hasValue(1);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void crashInTheAmbiguousWindowOfAKeyedToolRetriesWithTheSameKey() throws Exception {
    FaultInjector faults = crashOnceAt(CrashPoint.B7_TOOL_EFFECT_DONE);
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.lookup", JsonValue.object(), 2)),
            BUDGET,
            faults);
    RunId id = h.start("look");
    assertThatThrownBy(h::runUntilIdle).isInstanceOf(Crash.class);
    h.clock.advance(Duration.ofSeconds(11));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.invocations).hasValue(3);
    assertThat(h.effects).hasSize(2);
    assertThat(h.store.ledger(id)).allMatch(e -> e.status().equals("succeeded"));
    assertThat(h.store.ledger(id).stream().mapToInt(e -> e.attempts()).max().orElseThrow())
        .isEqualTo(2);
  }

  @Test
  void unkeyedToolWithFailPolicyFailsTheRunNamingTheCall() throws Exception {
    FaultInjector faults = crashOnceAt(CrashPoint.B7_TOOL_EFFECT_DONE);
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.push", JsonValue.object(), 1)),
            BUDGET,
            faults);
    RunId id = h.start("push");
    assertThatThrownBy(h::runUntilIdle).isInstanceOf(Crash.class);
    h.clock.advance(Duration.ofSeconds(11));
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.FAILED);
    assertThat(s.error().orElseThrow().code()).isEqualTo("tool_outcome_unknown");
    assertThat(s.error().orElseThrow().message()).contains("call_1_0").contains("shop.push");
  }

  @Test
  void zombieWorkerIsFencedAndStartsNoEffect() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.email", JsonValue.object(), 2)),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("email twice");
    Lease first = h.store.claim("zombie", h.engine.config().leaseTime(), 1).getFirst();
    RunExecution zombie = RunExecution.load(h.engine, first, h.engine.ticker().getAsLong());
    for (int i = 0; i < 3; i++) {
      zombie.advance();
    }
    h.clock.advance(Duration.ofSeconds(11));
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    int before = h.invocations.get();
    long seq = h.state(id).lastSeq();
    assertThatThrownBy(zombie::run).isInstanceOf(LeaseLostException.class);
    assertThat(h.invocations).hasValue(before);
    assertThat(h.state(id).lastSeq()).isEqualTo(seq);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void concurrentCreatesWithOneKeyMakeOneRun() throws Exception {
    Harness h =
        new Harness(ScriptedModel.of(ScriptedModel.steps(text("hi"))), BUDGET, FaultInjector.NONE);
    Set<RunId> ids = ConcurrentHashMap.newKeySet();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        fs.add(
            pool.submit(
                () ->
                    ids.add(
                        h.runs
                            .create(
                                Runs.Request.of("acme", "shop", JsonValue.object("goal", "x"))
                                    .withIdempotencyKey("k1"))
                            .runId())));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    }
    assertThat(ids).hasSize(1);
    assertThat(h.store.rows()).hasSize(1);
  }

  @Test
  void replayOfTheLogMakesTheSameDecisions() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(
                        call("a", "shop.lookup", JsonValue.object("q", 1L)),
                        call("b", "shop.lookup", JsonValue.object("q", 2L))),
                    calls(call("c", "shop.charge", JsonValue.object("usd", 3L))),
                    text("bye"))),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("shop");
    h.runUntilIdle();
    ApprovalRecord a = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    h.store.decide("acme", decision(a, "approved"));
    h.runUntilIdle();
    List<EventEnvelope> log = h.store.events(id, 0, 10_000);
    assertThat(RunState.fold(log).status()).isEqualTo(RunStatus.COMPLETED);
    int checked = 0;
    for (int i = 1; i < log.size(); i++) {
      RunState before = RunState.fold(log.subList(0, i));
      RunEvent next = log.get(i).event();
      Next decided =
          AgentLoop.decide(
              before, h.engine.agentOf(before), dev.keel.model.Pricing.FREE, log.get(i).at());
      switch (next) {
        case RunEvent.ModelRequested r -> {
          assertThat(decided).isEqualTo(new Next.RequestModel(r.step(), r.reservedMicros()));
          checked++;
        }
        case RunEvent.ToolCallStarted s -> {
          assertThat(decided)
              .isInstanceOfSatisfying(
                  Next.ExecuteTool.class, x -> assertThat(x.call().callId()).isEqualTo(s.callId()));
          checked++;
        }
        case RunEvent.OutputRecorded o -> {
          assertThat(decided).isInstanceOf(Next.RecordOutput.class);
          checked++;
        }
        case RunEvent.RunCompleted c -> {
          assertThat(decided).isInstanceOf(Next.Complete.class);
          checked++;
        }
        default -> {}
      }
    }
    assertThat(checked).isEqualTo(3 + 3 + 1 + 1);
  }

  @Test
  void forkContinuesFromACheckpointWithoutRepeatingRecordedSteps() throws Exception {
    ScriptedModel model = ScriptedModel.of(dev.keel.testkit.PlanScript.withPrefix("shop."));
    Harness h = new Harness(model, BUDGET, FaultInjector.NONE);
    RunId source =
        h.runs
            .create(
                Runs.Request.of(
                    "acme", "shop", JsonValue.object("goal", "plan:lookup,lookup,lookup,lookup")))
            .runId();
    h.runUntilIdle();
    assertThat(h.state(source).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.store.checkpoints(source)).extracting(c -> c.step()).contains(2, 4);
    long calls = model.callCount();
    int invocations = h.invocations.get();
    RunId fork =
        h.runs
            .fork(
                "acme",
                source,
                2,
                new Runs.ForkOverrides(
                    Optional.of("be brief"),
                    Optional.empty(),
                    Optional.empty(),
                    JsonValue.object("why", "test")))
            .runId();
    h.runUntilIdle();
    RunState f = h.state(fork);
    assertThat(f.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(f.output().orElseThrow().string("text"))
        .contains("finished plan:lookup,lookup,lookup,lookup");
    assertThat(model.callCount() - calls)
        .as("only steps 3, 4 and the answer are asked for")
        .isEqualTo(3);
    assertThat(h.invocations.get() - invocations).as("only steps 3 and 4 run tools").isEqualTo(2);
    assertThat(f.header().metadata().string("forked_from")).contains(source.value());
    assertThat(f.messages())
        .anyMatch(m -> m instanceof dev.keel.model.Message.User u && u.text().equals("be brief"));
    assertThatThrownBy(() -> h.runs.fork("acme", source, 3, Runs.ForkOverrides.NONE))
        .hasMessageContaining("no checkpoint at step 3")
        .hasMessageContaining("[2, 4]");
    assertThatThrownBy(() -> h.runs.fork("other", source, 2, Runs.ForkOverrides.NONE))
        .hasMessageContaining("no checkpoint to fork from");
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  private static SignalPayload.ApprovalDecision decision(ApprovalRecord a, String d) {
    return new SignalPayload.ApprovalDecision(a.approvalId(), d, "bob", Optional.empty(), "");
  }
}
