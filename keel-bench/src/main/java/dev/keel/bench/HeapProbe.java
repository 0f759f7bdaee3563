package dev.keel.bench;

import dev.keel.engine.EngineConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * Measures what runs waiting for a person cost the worker's heap: used heap after a full GC with
 * the worker alive and idle, before creating the runs and after every run has parked (released its
 * lease after asking for approval).
 */
final class HeapProbe {
  private static final int WARM_UP_RUNS = 200;

  private HeapProbe() {}

  /**
   * What the probe saw.
   *
   * @param store the store's key
   * @param runs how many runs parked
   * @param beforeBytes used heap after GC before the runs were created
   * @param afterBytes used heap after GC once all had parked
   * @param parkNanos from the first create to the last run parked
   * @param storeBytes the store's size on disk afterwards
   * @param activeAfter runs the worker still held afterwards (should be 0)
   */
  record Result(
      String store,
      int runs,
      long beforeBytes,
      long afterBytes,
      long parkNanos,
      OptionalLong storeBytes,
      int activeAfter) {

    /** Heap growth per parked run, in bytes. */
    double bytesPerRun() {
      return (afterBytes - beforeBytes) / (double) runs;
    }
  }

  /** Parks {@code n} runs on {@code db} and measures the heap, printing progress to {@code log}. */
  static Result measure(BenchDatabase db, int n, Duration max, PrintStream log)
      throws InterruptedException {
    try (KeelRig rig = new KeelRig(db.openStore(), List.of(), EngineConfig.DEFAULT)) {
      ObservedRunStore store = rig.store();
      // Load every class and warm the store's caches, so the baseline is not flattered.
      rig.createAll(WARM_UP_RUNS, KeelRig.GATED_AGENT);
      awaitParked(rig, WARM_UP_RUNS, max, null);
      long before = usedAfterGc();
      log.printf("  heap before: %s MB used after GC%n", Table.number(before / 1e6, 1));
      long parkedBefore = store.parked();
      long start = System.nanoTime();
      Thread progress =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      while (true) {
                        Thread.sleep(5_000);
                        log.printf(
                            "  %6.0f s: %,d created, %,d parked, %d active%n",
                            (System.nanoTime() - start) / 1e9,
                            store.counts().creates() - WARM_UP_RUNS,
                            store.parked() - parkedBefore,
                            rig.worker().activeRuns());
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
      try {
        rig.createAll(n, KeelRig.GATED_AGENT);
        awaitParked(rig, parkedBefore + n, max, log);
      } finally {
        progress.interrupt();
      }
      long nanos = System.nanoTime() - start;
      long after = usedAfterGc();
      log.printf("  heap after:  %s MB used after GC%n", Table.number(after / 1e6, 1));
      return new Result(
          db.key(), n, before, after, nanos, db.storeBytes(), rig.worker().activeRuns());
    }
  }

  private static void awaitParked(
      KeelRig rig, long target, Duration max, @org.jspecify.annotations.Nullable PrintStream log)
      throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (rig.store().parked() < target || rig.worker().activeRuns() > 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "only "
                + rig.store().parked()
                + " of "
                + target
                + " runs parked within "
                + max
                + "; "
                + rig.worker().activeRuns()
                + " active");
      }
      Thread.sleep(100);
    }
    if (log != null) {
      log.println("  all parked; worker idle");
    }
  }

  /** Used heap after a full collection, with a pause for reference processing. */
  static long usedAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }
}
