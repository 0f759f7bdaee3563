package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.run.RunId;
import dev.keel.store.Admissions;
import dev.keel.testkit.InMemoryRunStore;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RunAdmissionTest {

  /** Counts prunes; admits everything. */
  private static final class CountingAdmissions implements Admissions {
    final AtomicInteger prunes = new AtomicInteger();

    @Override
    public Verdict admit(
        String tenant, String keyId, Instant dayStart, long runsPerDay, int unfinishedPerKey) {
      return new Admitted("adm_1");
    }

    @Override
    public void bind(String slot, RunId runId) {}

    @Override
    public void release(String slot) {}

    @Override
    public int prune() {
      prunes.incrementAndGet();
      return 0;
    }
  }

  @Test
  void slotsArePrunedOnTheFirstAdmissionThenAtMostOncePerInterval() throws Exception {
    AtomicLong ms = new AtomicLong(1_000_000);
    InstantSource clock = () -> Instant.ofEpochMilli(ms.get());
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    CountingAdmissions admissions = new CountingAdmissions();
    RunAdmission admission =
        new RunAdmission(
            store,
            new ScanRunQuery(store, id -> Optional.empty()),
            ApiPolicy.DEFAULT.withQuotas(100, 0, 0),
            Optional.of(admissions),
            clock);

    Optional<Thread> first = admission.pruneNowAndThen();
    assertThat(first).isPresent();
    first.get().join();
    assertThat(admissions.prunes).hasValue(1);

    ms.addAndGet(RunAdmission.PRUNE_EVERY.minus(Duration.ofSeconds(1)).toMillis());
    assertThat(admission.pruneNowAndThen()).as("too soon").isEmpty();

    ms.addAndGet(Duration.ofSeconds(1).toMillis());
    Optional<Thread> second = admission.pruneNowAndThen();
    assertThat(second).isPresent();
    second.get().join();
    assertThat(admissions.prunes).hasValue(2);
  }

  @Test
  void withoutStoreSlotsThereIsNothingToPrune() {
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    RunAdmission admission =
        new RunAdmission(
            store,
            new ScanRunQuery(store, id -> Optional.empty()),
            ApiPolicy.DEFAULT,
            Optional.empty());
    assertThat(admission.pruneNowAndThen()).isEmpty();
  }
}
