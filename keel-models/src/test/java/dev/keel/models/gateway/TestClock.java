package dev.keel.models.gateway;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** A clock tests move by hand; also a {@link Sleeper} that advances it instead of sleeping. */
final class TestClock implements InstantSource, Sleeper {
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-11-22T00:00:00Z"));

  @Override
  public Instant instant() {
    return now.get();
  }

  void advance(Duration d) {
    now.updateAndGet(i -> i.plus(d));
  }

  @Override
  public void sleep(Duration duration) {
    advance(duration);
  }
}
