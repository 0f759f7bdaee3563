package dev.keel.tools;

import java.time.Duration;

/** Waits between retries; injected so tests record waits instead of sleeping. */
@FunctionalInterface
public interface Sleeper {

  /** Waits {@code d}, or throws if interrupted. */
  void sleep(Duration d) throws InterruptedException;

  /** The real sleeper. */
  static Sleeper system() {
    return d -> Thread.sleep(d);
  }
}
