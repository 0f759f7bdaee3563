package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.SignalPayload;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.LedgerService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent loop's crash points B13–B17 (plan recorded, question recorded, output checked,
 * sub-agent spawned, sub-agent finished) with a real worker JVM killed by SIGKILL, on SQLite and
 * PostgreSQL. Each run of {@link CrashAgent#PARENT} plans and charges, asks a person, delegates to
 * a child run and waits for it, then finishes and is checked by reflection. After a fresh worker
 * JVM recovers, every parent completes once with the child's output, every child run exists and
 * completes once, each parent records its plan, question, spawn and the child's end exactly once
 * (it resumed once), no ledger key has a second effect, and the invariant checker finds nothing.
 */
class AgentCrashMatrixIT {
  static Stream<Arguments> matrix() {
    List<Arguments> out = new ArrayList<>();
    for (String store : List.of("sqlite", "postgres")) {
      for (CrashPoint p :
          List.of(
              CrashPoint.B13_PLAN_UPDATED,
              CrashPoint.B14_QUESTION_ASKED,
              CrashPoint.B15_OUTPUT_CHECKED,
              CrashPoint.B16_SUBRUN_SPAWNED,
              CrashPoint.B17_SUBRUN_FINISHED)) {
        out.add(Arguments.of(store, p));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrix")
  void sigkillAtAnAgentLoopPointResumesParentsOnceAndCompletesChildrenOnce(
      String kind, CrashPoint point) throws Exception {
    String url = Databases.fresh(kind);
    try (LedgerService ledger = new LedgerService();
        RunStore store = Stores.open(url, FaultInjector.NONE)) {
      Engine engine =
          CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, CrashMatrixIT.LEASE);
      List<RunId> parents = new ArrayList<>();
      for (int i = 0; i < CrashMatrixIT.TRIALS; i++) {
        parents.add(
            new Runs(engine)
                .create(
                    Runs.Request.of(
                            "t1",
                            CrashAgent.PARENT.name(),
                            JsonValue.object("goal", "delegate " + i))
                        .withIdempotencyKey("parent-" + i))
                .runId());
      }
      String lease = Long.toString(CrashMatrixIT.LEASE.toMillis());
      try (Child child = Child.start(url, ledger.url(), point.name(), lease, "0", "worker")) {
        Set<String> at = new HashSet<>();
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (at.size() < parents.size() && System.nanoTime() < end) {
          String line = child.lines.poll(20, TimeUnit.MILLISECONDS);
          if (line != null && line.startsWith("PARKED")) {
            at.add(line.split(" ")[2]);
          }
          approvePending(store);
        }
        assertThat(at)
            .as("parents parked at " + point + "; child stderr:\n" + child.stderr())
            .containsExactlyInAnyOrderElementsOf(parents.stream().map(RunId::value).toList());
        child.kill();
      }
      try (Child recovery = Child.start(url, ledger.url(), "none", lease, "0", "worker")) {
        long end = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (!allTerminal(store) && System.nanoTime() < end) {
          approvePending(store);
          Thread.sleep(20);
        }
        assertThat(allTerminal(store))
            .as("every run ends after recovery; stderr:\n" + recovery.stderr())
            .isTrue();
      }
      verify(store, ledger, parents, point);
    } finally {
      Databases.drop(url);
    }
  }

  private static void approvePending(RunStore store) {
    for (ApprovalRecord a : store.approvals("t1", Optional.of("pending"), 100)) {
      store.decide(
          "t1",
          new SignalPayload.ApprovalDecision(
              a.approvalId(),
              "approved",
              "tester",
              a.kind().equals("question")
                  ? Optional.of(JsonValue.object("answer", "go on"))
                  : Optional.empty(),
              ""));
    }
  }

  private static boolean allTerminal(RunStore store) {
    List<RunRow> rows = store.rows();
    return !rows.isEmpty() && rows.stream().allMatch(r -> r.status().terminal());
  }

  private static <T> long count(List<EventEnvelope> log, Class<T> type) {
    return log.stream().filter(e -> type.isInstance(e.event())).count();
  }

  private static void verify(
      RunStore store, LedgerService ledger, List<RunId> parents, CrashPoint point)
      throws Exception {
    assertThat(InvariantChecker.check(store)).as("invariants after " + point).isEmpty();
    Map<String, RunState> children = new LinkedHashMap<>();
    for (RunRow row : store.rows()) {
      RunState s = RunState.fold(store.events(row.runId(), 0, Integer.MAX_VALUE));
      if (s.header().agentName().equals(CrashAgent.CHILD.name())) {
        children.put(s.header().parentRunId().orElseThrow(), s);
      }
    }
    assertThat(children).as("one child per parent after " + point).hasSize(parents.size());
    for (RunId id : parents) {
      List<EventEnvelope> log = store.events(id, 0, Integer.MAX_VALUE);
      RunState s = RunState.fold(log);
      assertThat(s.status()).as(id + " after " + point).isEqualTo(RunStatus.COMPLETED);
      assertThat(s.output().orElseThrow().string("text")).contains(CrashAgent.PARENT_ANSWER);
      assertThat(count(log, RunEvent.RunCompleted.class)).isEqualTo(1);
      assertThat(count(log, RunEvent.OutputRecorded.class)).isEqualTo(1);
      assertThat(log)
          .filteredOn(e -> e.event() instanceof RunEvent.PlanUpdated p && p.by().equals("agent"))
          .hasSize(1);
      assertThat(log)
          .filteredOn(
              e -> e.event() instanceof RunEvent.ApprovalRequested a && a.kind().equals("question"))
          .hasSize(1);
      assertThat(count(log, RunEvent.SubrunSpawned.class)).as("spawned once").isEqualTo(1);
      assertThat(count(log, RunEvent.SubrunFinished.class)).as("resumed once").isEqualTo(1);
      assertThat(s.loop().reflections()).isEqualTo(1);
      assertThat(
              log.stream()
                  .filter(e -> e.event() instanceof RunEvent.OutputChecked c && c.passed())
                  .count())
          .isEqualTo(1);
      RunState child = children.get(id.value());
      assertThat(child).as("the child of " + id).isNotNull();
      List<EventEnvelope> childLog = store.events(child.runId(), 0, Integer.MAX_VALUE);
      assertThat(child.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(count(childLog, RunEvent.RunCompleted.class))
          .as("child completed once")
          .isEqualTo(1);
      // the child's usage rolled up into the parent exactly once
      assertThat(s.usage().modelCalls()).isEqualTo(5 + child.usage().modelCalls());
      for (List<EventEnvelope> l : List.of(log, childLog)) {
        Set<String> succeeded = new HashSet<>();
        Map<String, String> keys = new LinkedHashMap<>();
        for (EventEnvelope e : l) {
          if (e.event() instanceof RunEvent.ToolCallStarted st) {
            keys.put(st.callId(), st.idempotencyKey());
          } else if (e.event() instanceof RunEvent.ToolCallSucceeded ok) {
            succeeded.add(ok.callId());
          }
        }
        assertThat(keys).isNotEmpty();
        for (Map.Entry<String, String> k : keys.entrySet()) {
          int effects = ledger.effects(k.getValue());
          assertThat(effects).as("effects of " + k.getValue()).isLessThanOrEqualTo(1);
          if (succeeded.contains(k.getKey())) {
            assertThat(effects).as("a recorded success happened once").isEqualTo(1);
          }
        }
      }
    }
  }
}
