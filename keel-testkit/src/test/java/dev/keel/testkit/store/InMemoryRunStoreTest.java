package dev.keel.testkit.store;

import dev.keel.store.RunStore;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;

/** The store contract on the in-memory store, whose clock is a manual one. */
class InMemoryRunStoreTest extends RunStoreContract {
  private ManualClock clock = new ManualClock(Instant.now());

  @Override
  protected RunStore newStore() {
    clock = new ManualClock(Instant.now());
    return new InMemoryRunStore(clock);
  }

  @Override
  protected void elapse(Duration d) {
    clock.advance(d);
  }
}
