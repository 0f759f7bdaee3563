package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.engine.Engine;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.Lease;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.LedgerService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * FL-01: a worker JVM is frozen with SIGSTOP just before a side effect, past its lease; another
 * worker takes the run over and finishes it; the first is thawed with SIGCONT. Its writes must be
 * rejected (the history does not fork), it must start no new effect, and it must stop within one
 * second of waking.
 *
 * <p>On PostgreSQL, the store for several worker processes. On SQLite a process frozen in the
 * middle of a write transaction holds the file's write lock, so no other process can write until it
 * wakes: no lease can change that, and it is why several processes on one SQLite file are not a
 * supported deployment (decision 0002). Fencing on SQLite is proven in-process (EngineTest,
 * SimulationTest) and by the SIGKILL matrix.
 */
class ZombieIT {
  static final Duration LEASE = Duration.ofMillis(1000);

  @ParameterizedTest(name = "{0} x{1}")
  @CsvSource({"postgres, 100"})
  void frozenWorkerWakesFencedAndStartsNothing(String kind, int trials) throws Exception {
    String url = Databases.fresh(kind);
    List<Long> stopMillis = new ArrayList<>();
    try (LedgerService ledger = new LedgerService();
        RunStore store = Stores.open(url, FaultInjector.NONE);
        Child zombie =
            Child.start(
                url,
                ledger.url(),
                "B12_LEASE_HANDOVER",
                Long.toString(LEASE.toMillis()),
                "300",
                "worker")) {
      Engine taker = CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, LEASE);
      for (int trial = 0; trial < trials; trial++) {
        RunId id =
            new Runs(taker)
                .create(Runs.Request.of("t1", "crash", JsonValue.object("goal", "plan:charge")))
                .runId();
        String parked;
        try {
          parked = zombie.await("PARKED", Duration.ofSeconds(30));
        } catch (AssertionError x) {
          throw new AssertionError(
              x.getMessage()
                  + "\nrun "
                  + store.row(id)
                  + "\nlog "
                  + store.events(id, 0, 100).stream().map(e -> e.seq() + " " + e.event()).toList(),
              x);
        }
        assertThat(parked).endsWith(id.value());
        zombie.signal("STOP");
        Lease lease = null;
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (lease == null && System.nanoTime() < end) {
          lease = store.claim("taker", LEASE, 1).stream().findFirst().orElse(null);
          if (lease == null) {
            Thread.sleep(20);
          }
        }
        assertThat(lease)
            .as("the frozen worker's lease expires and another worker takes the run")
            .isNotNull();
        RunExecution.load(taker, lease, System.nanoTime()).run();
        assertThat(new Runs(taker).state(id).status()).isEqualTo(RunStatus.COMPLETED);
        long seq = store.row(id).orElseThrow().lastSeq();
        String key = "keel:" + id + ":call_1_0";
        int requests = ledger.requests(key);
        zombie.lines.clear();
        long woke = System.nanoTime();
        zombie.signal("CONT");
        zombie.await("ENDED", Duration.ofSeconds(5));
        stopMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - woke));
        Thread.sleep(50);
        assertThat(store.row(id).orElseThrow().lastSeq())
            .as("the zombie wrote nothing")
            .isEqualTo(seq);
        assertThat(ledger.requests(key)).as("the zombie started no effect").isEqualTo(requests);
        assertThat(ledger.effects(key)).isEqualTo(1);
      }
      assertThat(InvariantChecker.check(store)).isEmpty();
      long worst = stopMillis.stream().mapToLong(Long::longValue).max().orElseThrow();
      System.out.printf(
          "zombie %s: %d trials, stop after wake: max %d ms, median %d ms%n",
          kind, trials, worst, stopMillis.stream().sorted().toList().get(stopMillis.size() / 2));
      assertThat(worst).as("the zombie stops within 1 s of waking").isLessThan(1000);
    } finally {
      Databases.drop(url);
    }
  }
}
