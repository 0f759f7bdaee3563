package dev.keel.server;

import dev.keel.run.RunId;
import dev.keel.server.auth.ApiKey;
import dev.keel.store.Admissions;
import dev.keel.store.CreateResult;
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
 * <p>Implementation notes. With a SQL store ({@link ServerServices#admissions()}), runs per day and
 * unfinished runs per key are decided by {@link Admissions}: one transaction in the store counts
 * and takes a slot, serialised per tenant, so concurrent creates on any number of servers never
 * exceed either limit (docs/decisions/0044). The slot is bound to the created run, or given back if
 * no run was created. Without one (the in-memory store), the day's count is a count of the tenant's
 * runs and unfinished runs per key are tracked in this process's memory; there, concurrent creates
 * may overshoot by the number in flight. The queue depth is a deployment-wide count in every case
 * (backpressure, not a quota): racing creates may overshoot it by the number in flight.
 */
final class RunAdmission {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RunAdmission.class);
  private final RunStore store;
  private final RunQuery query;
  private final ApiPolicy policy;
  private final Optional<Admissions> admissions;
  private final Map<String, Set<RunId>> active = new ConcurrentHashMap<>();
  private final java.time.InstantSource clock;
  private final java.util.concurrent.atomic.AtomicLong lastPrune =
      new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);

  /** How often admission slots that can no longer count are deleted (per server). */
  static final Duration PRUNE_EVERY = Duration.ofMinutes(10);

  RunAdmission(RunStore store, RunQuery query, ApiPolicy policy, Optional<Admissions> admissions) {
    this(store, query, policy, admissions, java.time.InstantSource.system());
  }

  RunAdmission(
      RunStore store,
      RunQuery query,
      ApiPolicy policy,
      Optional<Admissions> admissions,
      java.time.InstantSource clock) {
    this.store = store;
    this.query = query;
    this.policy = policy;
    this.admissions = admissions;
    this.clock = clock;
  }

  /**
   * Deletes admission slots that can no longer count ({@link Admissions#prune}) at most once per
   * {@link #PRUNE_EVERY} per server, on a virtual thread of its own so no request waits for it.
   * Returns the thread started, if any (tests join it).
   */
  Optional<Thread> pruneNowAndThen() {
    if (admissions.isEmpty()) {
      return Optional.empty();
    }
    long now = clock.millis();
    long last = lastPrune.get();
    if ((last != Long.MIN_VALUE && now - last < PRUNE_EVERY.toMillis())
        || !lastPrune.compareAndSet(last, now)) {
      return Optional.empty();
    }
    Admissions a = admissions.get();
    return Optional.of(
        Thread.ofVirtual()
            .name("keel-admission-prune")
            .start(
                () -> {
                  try {
                    int n = a.prune();
                    LOG.debug("pruned {} admission slots", n);
                  } catch (RuntimeException x) {
                    // The next pass tries again; slots left behind only take space.
                    LOG.warn("pruning admission slots failed; retried in {}", PRUNE_EVERY, x);
                  }
                }));
  }

  /**
   * Throws 429 if {@code key} may not create a run now; otherwise returns the admission slot held
   * for the run about to be created, if the store keeps slots. Pass it to {@link #created} or
   * {@link #abandoned}.
   */
  Optional<String> admit(ApiKey key) {
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
    if (admissions.isPresent() && (policy.runsPerDay() > 0 || policy.concurrentRunsPerUser() > 0)) {
      pruneNowAndThen();
      Instant now = Instant.now();
      Instant midnight =
          LocalDate.ofInstant(now, ZoneOffset.UTC).atStartOfDay().toInstant(ZoneOffset.UTC);
      Admissions.Verdict v =
          admissions
              .get()
              .admit(
                  key.tenant(),
                  key.id(),
                  midnight,
                  policy.runsPerDay(),
                  policy.concurrentRunsPerUser());
      return switch (v) {
        case Admissions.Admitted a -> Optional.of(a.slot());
        case Admissions.Refused r ->
            throw r.limit() == Admissions.Limit.RUNS_PER_DAY
                ? dayUsedUp(key, now, midnight)
                : tooManyRuns(key);
      };
    }
    if (policy.runsPerDay() > 0) {
      Instant now = Instant.now();
      LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
      Instant midnight = today.atStartOfDay().toInstant(ZoneOffset.UTC);
      long used = query.count(RunQuery.Filter.tenant(key.tenant()), midnight);
      if (used >= policy.runsPerDay()) {
        throw dayUsedUp(key, now, midnight);
      }
    }
    if (policy.concurrentRunsPerUser() > 0) {
      Set<RunId> mine = active.computeIfAbsent(key.id(), k -> new LinkedHashSet<>());
      synchronized (mine) {
        prune(mine);
        if (mine.size() >= policy.concurrentRunsPerUser()) {
          throw tooManyRuns(key);
        }
      }
    }
    return Optional.empty();
  }

  private ApiException dayUsedUp(ApiKey key, Instant now, Instant midnight) {
    long wait = Math.max(1, Duration.between(now, midnight.plus(Duration.ofDays(1))).toSeconds());
    return limited(
        "quota_exceeded",
        "quota quotas.runs-per-day ("
            + policy.runsPerDay()
            + " runs per UTC day for tenant "
            + key.tenant()
            + ") is used up; it resets at 00:00 UTC",
        wait);
  }

  private ApiException tooManyRuns(ApiKey key) {
    return limited(
        "too_many_runs",
        "limit quotas.concurrent-runs-per-user ("
            + policy.concurrentRunsPerUser()
            + " unfinished runs per API key) reached for key "
            + key.id()
            + "; wait for a run to finish or cancel one",
        5);
  }

  /** The create admitted with {@code slot} threw: no run was made, the slot is given back. */
  void abandoned(Optional<String> slot) {
    slot.ifPresent(s -> admissions.orElseThrow().release(s));
  }

  /**
   * Binds {@code slot} to the id the run is about to be created with, before it exists: from then
   * on the slot counts until the run exists and the run counts after, never both (decision 0049).
   */
  void reserve(Optional<String> slot, RunId runId) {
    slot.ifPresent(s -> admissions.orElseThrow().bind(s, runId));
  }

  /**
   * Counts the run of {@code created} against {@code key} until it ends: its slot was bound by
   * {@link #reserve}; it is given back if the create found an existing run.
   */
  void created(ApiKey key, Optional<String> slot, CreateResult created) {
    RunId runId = created.runId();
    if (slot.isPresent()) {
      if (created.existing()) {
        admissions.orElseThrow().release(slot.get());
      }
      return;
    }
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
