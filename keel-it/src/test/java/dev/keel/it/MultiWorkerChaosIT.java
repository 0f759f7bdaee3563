package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
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
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Several worker JVMs share one PostgreSQL; every few seconds a random one is killed with SIGKILL
 * and replaced, over a few hundred runs. Every run must complete and every keyed effect happen
 * exactly once; an unkeyed call caught in a kill becomes outcome_unknown and is never repeated.
 */
class MultiWorkerChaosIT {
  private static final int RUNS = 300;

  @Test
  void workersKilledAtRandomLoseNoRunAndRepeatNoEffect() throws Exception {
    String url = Databases.fresh("postgres");
    long seed = Long.getLong("keel.chaos.seed", System.nanoTime());
    Random rnd = new Random(seed);
    Duration lease = Duration.ofMillis(1500);
    List<Child> workers = new ArrayList<>();
    int kills = 0;
    try (LedgerService ledger = new LedgerService();
        RunStore store = Stores.open(url, FaultInjector.NONE)) {
      Engine engine = CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, lease);
      for (int i = 0; i < 3; i++) {
        workers.add(
            Child.start(url, ledger.url(), "none", Long.toString(lease.toMillis()), "0", "worker"));
      }
      List<RunId> runs = new ArrayList<>();
      for (int i = 0; i < RUNS; i++) {
        runs.add(
            new Runs(engine)
                .create(
                    Runs.Request.of(
                        "t1",
                        "crash",
                        JsonValue.object(
                            "goal",
                            i % 3 == 0
                                ? "plan:charge,notify,charge"
                                : "plan:charge+charge,charge")))
                .runId());
      }
      long end = System.nanoTime() + Duration.ofMinutes(4).toNanos();
      // The first kill waits for work in flight (some run ended, not all), not for a fixed time:
      // a fast engine can finish every run before any clock-based first kill would land.
      long nextKill = Long.MAX_VALUE;
      while (!allTerminal(store) && System.nanoTime() < end) {
        if (kills == 0 && nextKill == Long.MAX_VALUE && anyTerminal(store)) {
          nextKill = System.nanoTime();
        }
        if (System.nanoTime() > nextKill && kills < 12) {
          int victim = rnd.nextInt(workers.size());
          workers.get(victim).kill();
          workers.set(
              victim,
              Child.start(
                  url, ledger.url(), "none", Long.toString(lease.toMillis()), "0", "worker"));
          kills++;
          nextKill = System.nanoTime() + Duration.ofMillis(300 + rnd.nextInt(700)).toNanos();
        }
        for (ApprovalRecord a : store.approvals("t1", Optional.of("pending"), 200)) {
          store.decide(
              "t1",
              new SignalPayload.ApprovalDecision(
                  a.approvalId(), "denied", "tester", Optional.empty(), "checked: it happened"));
        }
        Thread.sleep(50);
      }
      assertThat(allTerminal(store))
          .as("every run ends (seed " + seed + ", " + kills + " kills)")
          .isTrue();
      assertThat(InvariantChecker.check(store)).isEmpty();
      int unknown = 0;
      for (RunId id : runs) {
        List<EventEnvelope> log = store.events(id, 0, Integer.MAX_VALUE);
        RunState s = RunState.fold(log);
        assertThat(s.status()).as(id + " (seed " + seed + ")").isEqualTo(RunStatus.COMPLETED);
        Set<String> keys = new HashSet<>();
        for (EventEnvelope e : log) {
          if (e.event() instanceof RunEvent.ToolCallStarted st) {
            keys.add(st.idempotencyKey());
          }
          if (e.event() instanceof RunEvent.ToolOutcomeUnknown) {
            unknown++;
          }
        }
        for (String key : keys) {
          assertThat(ledger.effects(key)).as(key + " (seed " + seed + ")").isLessThanOrEqualTo(1);
        }
      }
      System.out.printf(
          "chaos: %d runs, 3 workers, %d kills, %d unknown outcomes settled by a person, seed %d%n",
          RUNS, kills, unknown, seed);
      assertThat(kills).isGreaterThan(0);
    } finally {
      for (Child w : workers) {
        w.close();
      }
      Databases.drop(url);
    }
  }

  private static boolean anyTerminal(RunStore store) {
    return store.rows().stream().anyMatch(r -> r.status().terminal());
  }

  private static boolean allTerminal(RunStore store) {
    List<RunRow> rows = store.rows();
    return !rows.isEmpty() && rows.stream().allMatch(r -> r.status().terminal());
  }
}
