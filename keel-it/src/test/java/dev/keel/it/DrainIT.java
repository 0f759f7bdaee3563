package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.LedgerService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SIGTERM drains a worker: it stops claiming, finishes the step in flight and hands its runs back
 * at once, so another worker continues them without waiting for the (long) lease to expire.
 */
class DrainIT {
  static final Duration LEASE = Duration.ofSeconds(30);

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgres"})
  void sigtermHandsRunsBackAtTheNextStepBoundary(String kind) throws Exception {
    String url = Databases.fresh(kind);
    try (LedgerService ledger = new LedgerService();
        RunStore store = Stores.open(url, FaultInjector.NONE)) {
      Engine engine = CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, LEASE);
      List<RunId> runs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        runs.add(
            new Runs(engine)
                .create(
                    Runs.Request.of(
                        "t1", "crash", JsonValue.object("goal", "plan:charge,charge,charge")))
                .runId());
      }
      try (Child worker =
          Child.start(
              url,
              ledger.url(),
              "B3_BEFORE_MODEL_REQUEST",
              Long.toString(LEASE.toMillis()),
              "1500",
              "worker")) {
        for (int i = 0; i < 3; i++) {
          worker.await("PARKED", Duration.ofSeconds(30));
        }
        worker.signal("TERM");
        assertThat(worker.await("DRAINED", Duration.ofSeconds(25))).isEqualTo("DRAINED true");
      }
      for (RunRow row : store.rows()) {
        assertThat(row.leaseOwner())
            .as(row.runId() + " was handed back, not left to expire")
            .isEmpty();
        assertThat(row.status().terminal()).isFalse();
        assertThat(row.lastSeq())
            .as("the step in flight was finished and recorded")
            .isGreaterThan(4);
      }
      long start = System.nanoTime();
      try (Child next =
          Child.start(url, ledger.url(), "none", Long.toString(LEASE.toMillis()), "0", "worker")) {
        while (!store.rows().stream().allMatch(r -> r.status() == RunStatus.COMPLETED)
            && System.nanoTime() - start < Duration.ofSeconds(25).toNanos()) {
          Thread.sleep(50);
        }
      }
      assertThat(store.rows()).allMatch(r -> r.status() == RunStatus.COMPLETED);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("continued at once, not after the 30 s lease")
          .isLessThan(LEASE);
      assertThat(InvariantChecker.check(store)).isEmpty();
      assertThat(ledger.allEffects().values()).hasSize(9).allMatch(n -> n == 1);
    } finally {
      Databases.drop(url);
    }
  }
}
