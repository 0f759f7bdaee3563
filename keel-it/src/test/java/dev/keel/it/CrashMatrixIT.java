package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.engine.Engine;
import dev.keel.engine.RunExecution;
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
import dev.keel.store.Lease;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.SignalPayload;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.LedgerService;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CR-01: a real worker JVM is killed with SIGKILL at each crash point B1–B12 of guarantees.md, on
 * SQLite and on PostgreSQL, with several runs parked at the point when it dies; a fresh worker JVM
 * then recovers. The side-effect ledger runs in this (the parent) process, so a dead worker cannot
 * take its counts along. Every run must complete with the output of the same run without crashes,
 * no key may cause a second effect, an unkeyed call whose result was lost must become {@code
 * outcome_unknown} (never a silent retry), and the invariant checker must find nothing.
 */
class CrashMatrixIT {
  static final int TRIALS =
      Integer.getInteger(
          "keel.crash.trials",
          Integer.parseInt(Optional.ofNullable(System.getenv("KEEL_CRASH_TRIALS")).orElse("5")));
  static final Duration LEASE = Duration.ofSeconds(3);
  static final String STANDARD = "plan:charge,notify,transfer,charge";
  static final Set<CrashPoint> AMBIGUOUS =
      EnumSet.of(
          CrashPoint.B6_TOOL_INTENT_RECORDED,
          CrashPoint.B7_TOOL_EFFECT_DONE,
          CrashPoint.B12_LEASE_HANDOVER);

  static Stream<Arguments> matrix() {
    List<Arguments> out = new ArrayList<>();
    for (String store : List.of("sqlite", "postgres")) {
      for (CrashPoint p : CrashPoint.values()) {
        // B13-B17 (plans, questions, output checks, sub-agents) are reached only by agents that
        // use those decisions: AgentCrashMatrixIT kills a worker JVM at each of them.
        if (p.compareTo(CrashPoint.B12_LEASE_HANDOVER) <= 0) {
          out.add(Arguments.of(store, p));
        }
      }
    }
    return out.stream();
  }

  static String goal(CrashPoint point, int i) {
    // Around a tool's ambiguous window, half the runs start with the unkeyed tool.
    return AMBIGUOUS.contains(point) && i % 2 == 0 ? "plan:notify,charge,transfer" : STANDARD;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrix")
  void sigkillAtEveryCrashPointLosesNothingAndDuplicatesNothing(String kind, CrashPoint point)
      throws Exception {
    String url = Databases.fresh(kind);
    try (LedgerService ledger = new LedgerService();
        RunStore store = Stores.open(url, FaultInjector.NONE)) {
      Engine parent = CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, LEASE);
      Map<String, String> goals = new LinkedHashMap<>();
      for (int i = 0; i < TRIALS; i++) {
        goals.put("key-" + i, goal(point, i));
      }
      Map<RunId, String> runs = new LinkedHashMap<>();
      if (point == CrashPoint.B1_RUN_ROW_CREATED) {
        crashCreates(url, ledger, goals);
        assertThat(store.rows()).as("no half-written run after a crash inside create").isEmpty();
      } else {
        goals.forEach((key, goal) -> runs.put(create(parent, key, goal), goal));
        int parked = 0;
        try (Child child =
            Child.start(
                url, ledger.url(), point.name(), Long.toString(LEASE.toMillis()), "0", "worker")) {
          Set<String> at = new HashSet<>();
          long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
          while (at.size() < runs.size() && System.nanoTime() < end) {
            String line = child.lines.poll(20, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith("PARKED")) {
              at.add(line.split(" ")[2]);
            }
            approvePending(store, false);
          }
          parked = at.size();
          assertThat(parked)
              .as("runs parked at " + point + "; child stderr:\n" + child.stderr())
              .isEqualTo(runs.size());
          child.kill();
        }
      }
      if (runs.isEmpty()) {
        goals.forEach((key, goal) -> runs.put(create(parent, key, goal), goal));
        assertThat(store.rows()).hasSize(goals.size());
      }
      try (Child recovery =
          Child.start(url, ledger.url(), "none", Long.toString(LEASE.toMillis()), "0", "worker")) {
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!allTerminal(store) && System.nanoTime() < end) {
          approvePending(store, true);
          Thread.sleep(20);
        }
        assertThat(allTerminal(store))
            .as("every run ends after recovery; stderr:\n" + recovery.stderr())
            .isTrue();
      }
      verify(store, ledger, runs, point);
    } finally {
      Databases.drop(url);
    }
  }

  private static void crashCreates(String url, LedgerService ledger, Map<String, String> goals)
      throws Exception {
    // A create parks inside its transaction; the store's committer serialises creates, so one
    // child can hold only one create at the point: crash each in its own worker JVM.
    List<Map<String, String>> batches = new ArrayList<>();
    goals.forEach((k, g) -> batches.add(Map.of(k, g)));
    for (Map<String, String> batch : batches) {
      StringBuilder spec = new StringBuilder("create:");
      batch.forEach(
          (k, g) -> spec.append(spec.length() > 7 ? ";" : "").append(k).append('=').append(g));
      try (Child child =
          Child.start(
              url,
              ledger.url(),
              CrashPoint.B1_RUN_ROW_CREATED.name(),
              Long.toString(LEASE.toMillis()),
              "0",
              spec.toString())) {
        for (int i = 0; i < batch.size(); i++) {
          child.await("PARKED", Duration.ofSeconds(30));
        }
        child.kill();
      }
    }
  }

  private static RunId create(Engine engine, String key, String goal) {
    return new Runs(engine)
        .create(
            Runs.Request.of("t1", "crash", JsonValue.object("goal", goal)).withIdempotencyKey(key))
        .runId();
  }

  private static void approvePending(RunStore store, boolean recovering) {
    for (ApprovalRecord a : store.approvals("t1", Optional.of("pending"), 100)) {
      boolean unknown = a.kind().equals("outcome_unknown");
      if (unknown && !recovering) {
        continue;
      }
      // A person checks an unknown outcome and says it happened: do not run it again.
      store.decide(
          "t1",
          new SignalPayload.ApprovalDecision(
              a.approvalId(),
              unknown ? "denied" : "approved",
              "tester",
              Optional.empty(),
              unknown ? "checked: it happened" : ""));
    }
  }

  private static boolean allTerminal(RunStore store) {
    List<RunRow> rows = store.rows();
    return !rows.isEmpty() && rows.stream().allMatch(r -> r.status().terminal());
  }

  private static void verify(
      RunStore store, LedgerService ledger, Map<RunId, String> runs, CrashPoint point)
      throws Exception {
    assertThat(InvariantChecker.check(store)).as("invariants after " + point).isEmpty();
    for (Map.Entry<RunId, String> run : runs.entrySet()) {
      List<EventEnvelope> log = store.events(run.getKey(), 0, Integer.MAX_VALUE);
      RunState s = RunState.fold(log);
      assertThat(s.status()).as(run.getKey() + " after " + point).isEqualTo(RunStatus.COMPLETED);
      RunState reference = reference(run.getValue());
      assertThat(s.output()).isEqualTo(reference.output());
      assertThat(s.usage().modelCalls()).isEqualTo(reference.usage().modelCalls());
      assertThat(s.usage().toolCalls()).isEqualTo(reference.usage().toolCalls());
      assertThat(s.step()).isEqualTo(reference.step());
      Set<String> succeeded = new HashSet<>();
      Map<String, String> keyOfCall = new LinkedHashMap<>();
      Map<String, String> toolOfCall = new LinkedHashMap<>();
      for (EventEnvelope e : log) {
        switch (e.event()) {
          case RunEvent.ToolCallStarted st -> {
            keyOfCall.put(st.callId(), st.idempotencyKey());
            toolOfCall.put(st.callId(), st.tool());
          }
          case RunEvent.ToolCallSucceeded ok -> succeeded.add(ok.callId());
          case RunEvent.ToolOutcomeUnknown u -> {
            assertThat(AMBIGUOUS)
                .as("outcome_unknown only around a tool's ambiguous window")
                .contains(point);
            assertThat(toolOfCall.get(u.callId()))
                .as("only unkeyed tools become unknown")
                .isEqualTo("ledger.notify");
          }
          default -> {}
        }
      }
      for (Map.Entry<String, String> call : keyOfCall.entrySet()) {
        int effects = ledger.effects(call.getValue());
        assertThat(effects).as("effects of " + call.getValue()).isLessThanOrEqualTo(1);
        if (succeeded.contains(call.getKey())) {
          assertThat(effects)
              .as("a recorded success happened exactly once: " + call.getValue())
              .isEqualTo(1);
        }
      }
      if (point == CrashPoint.B7_TOOL_EFFECT_DONE && run.getValue().startsWith("plan:notify")) {
        assertThat(log)
            .as("B7 on an unkeyed tool is never silently retried")
            .anyMatch(
                e ->
                    e.event() instanceof RunEvent.ToolOutcomeUnknown u
                        && u.callId().equals("call_1_0"));
        assertThat(ledger.effects(keyOfCall.get("call_1_0"))).isEqualTo(1);
      }
    }
  }

  /** The same run without crashes, in memory, with approvals granted as in the test. */
  private static RunState reference(String goal) throws Exception {
    try (LedgerService ledger = new LedgerService()) {
      InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
      Engine engine =
          CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, Duration.ofSeconds(30));
      RunId id = create(engine, "ref", goal);
      for (int round = 0; round < 20 && !allTerminal(store); round++) {
        approvePending(store, true);
        for (Lease l : store.claim("ref", Duration.ofSeconds(30), 10)) {
          RunExecution.load(engine, l, System.nanoTime()).run();
        }
      }
      return new Runs(engine).state(id);
    }
  }
}
