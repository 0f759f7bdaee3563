package dev.keel.engine;

import java.time.Duration;

/**
 * Tunables of the engine.
 *
 * @param leaseTime how long a claim or write keeps a run ({@code engine.lease-time})
 * @param checkpointEvery write a checkpoint every this many steps ({@code engine.checkpoint-every})
 * @param approvalTtl how long an approval waits for a person ({@code tools.approval-timeout})
 * @param maxConcurrentRuns how many runs one worker advances at once ({@code engine.max-runs})
 * @param idlePoll the longest a worker sleeps between claims when nothing wakes it
 */
public record EngineConfig(
    Duration leaseTime,
    int checkpointEvery,
    Duration approvalTtl,
    int maxConcurrentRuns,
    Duration idlePoll) {

  /** Defaults: 30 s leases, a checkpoint every 10 steps, approvals wait 7 days, 1,000 runs. */
  public static final EngineConfig DEFAULT =
      new EngineConfig(Duration.ofSeconds(30), 10, Duration.ofDays(7), 1000, Duration.ofSeconds(1));

  /** Checks every value is positive. */
  public EngineConfig {
    if (leaseTime.toMillis() < 50) {
      throw new IllegalArgumentException(
          "engine.lease-time must be at least 50 ms, got " + leaseTime);
    }
    if (checkpointEvery < 1) {
      throw new IllegalArgumentException(
          "engine.checkpoint-every must be >= 1, got " + checkpointEvery);
    }
    if (approvalTtl.isNegative() || approvalTtl.isZero()) {
      throw new IllegalArgumentException(
          "tools.approval-timeout must be positive, got " + approvalTtl);
    }
    if (maxConcurrentRuns < 1) {
      throw new IllegalArgumentException("engine.max-runs must be >= 1, got " + maxConcurrentRuns);
    }
  }

  /** A copy with another lease time. */
  public EngineConfig withLeaseTime(Duration d) {
    return new EngineConfig(d, checkpointEvery, approvalTtl, maxConcurrentRuns, idlePoll);
  }

  /** A copy with another checkpoint interval. */
  public EngineConfig withCheckpointEvery(int n) {
    return new EngineConfig(leaseTime, n, approvalTtl, maxConcurrentRuns, idlePoll);
  }

  /** A copy with another approval time-to-live. */
  public EngineConfig withApprovalTtl(Duration d) {
    return new EngineConfig(leaseTime, checkpointEvery, d, maxConcurrentRuns, idlePoll);
  }
}
