package dev.keel.models.gateway;

import java.time.Duration;

/** Waits between retries; injected so tests advance a manual clock instead of sleeping. */
@FunctionalInterface
public interface Sleeper {
  /**
   * Waits {@code duration}.
   *
   * @throws InterruptedException when interrupted
   */
  void sleep(Duration duration) throws InterruptedException;

  /** Sleeps the current thread. */
  static Sleeper system() {
    return d -> Thread.sleep(d);
  }
}
