package dev.keel.server;

import dev.keel.run.RunId;
import dev.keel.server.auth.ApiKey;
import dev.keel.store.RunQuery;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides whether a new run may be created: the deployment's queue depth ({@code
 * quotas.queue-depth}), the tenant's runs per UTC day ({@code quotas.runs-per-day}) and the
 * caller's unfinished runs ({@code quotas.concurrent-runs-per-user}, where the user is the API
 * key). A refusal is a 429 whose {@code Retry-After} and detail name the limit.
 *
 * <p>Implementation notes. The day's count and the queue depth are SQL counts on the run table (one
 * indexed query each, only when the limit is set). Unfinished runs per key are tracked by this
 * server in memory, pruned by reading each tracked run's row; they are lost on restart and not
 * shared between servers, so after a restart a key may briefly exceed its limit. Counting and
 * creating are not one transaction: concurrent creates may overshoot a quota by the number of
 * requests in flight.
 */
final class RunAdmission {
  private final RunStore store;
  private final RunQuery query;
  private final ApiPolicy policy;
  private final Map<String, Set<RunId>> active = new ConcurrentHashMap<>();

  RunAdmission(RunStore store, RunQuery query, ApiPolicy policy) {
    this.store = store;
    this.query = query;
    this.policy = policy;
  }

  /** Throws 429 if {@code key} may not create a run now. */
  void admit(ApiKey key) {
    if (policy.queueDepth() > 0) {
      long queued;
      // The deployment's queue, not the caller's tenant's (decision 0043).
      try (dev.keel.store.TenantScope.Entered all = dev.keel.store.TenantScope.enterEveryTenant()) {
        queued = query.queued();
      }
      if (queued >= policy.queueDepth()) {
        throw limited(
            "queue_full",
            "limit quotas.queue-depth ("
                + policy.queueDepth()
                + " queued runs) reached: "
                + queued
                + " runs are waiting for a worker; retry shortly",
            2);
      }
    }
    if (policy.runsPerDay() > 0) {
      Instant now = Instant.now();
      LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
      Instant midnight = today.atStartOfDay().toInstant(ZoneOffset.UTC);
      long used = query.count(RunQuery.Filter.tenant(key.tenant()), midnight);
      if (used >= policy.runsPerDay()) {
        long wait =
            Math.max(1, Duration.between(now, midnight.plus(Duration.ofDays(1))).toSeconds());
        throw limited(
            "quota_exceeded",
            "quota quotas.runs-per-day ("
                + policy.runsPerDay()
                + " runs per UTC day for tenant "
                + key.tenant()
                + ") is used up; it resets at 00:00 UTC",
            wait);
      }
    }
    if (policy.concurrentRunsPerUser() > 0) {
      Set<RunId> mine = active.computeIfAbsent(key.id(), k -> new LinkedHashSet<>());
      synchronized (mine) {
        prune(mine);
        if (mine.size() >= policy.concurrentRunsPerUser()) {
          throw limited(
              "too_many_runs",
              "limit quotas.concurrent-runs-per-user ("
                  + policy.concurrentRunsPerUser()
                  + " unfinished runs per API key) reached for key "
                  + key.id()
                  + "; wait for a run to finish or cancel one",
              5);
        }
      }
    }
  }

  /** Counts {@code runId} against {@code key} until it ends. */
  void created(ApiKey key, RunId runId) {
    if (policy.concurrentRunsPerUser() > 0) {
      Set<RunId> mine = active.computeIfAbsent(key.id(), k -> new LinkedHashSet<>());
      synchronized (mine) {
        mine.add(runId);
      }
    }
  }

  private void prune(Set<RunId> runs) {
    for (Iterator<RunId> it = runs.iterator(); it.hasNext(); ) {
      Optional<RunRow> row = store.row(it.next());
      if (row.isEmpty() || row.get().status().terminal()) {
        it.remove();
      }
    }
  }

  private static ApiException limited(String code, String detail, long retryAfter) {
    return new ApiException(429, code, "Too many requests", detail)
        .withHeader("Retry-After", Long.toString(retryAfter));
  }
}
