package dev.keel.store;

import dev.keel.run.RunId;
import java.time.Instant;
import java.util.Objects;

/**
 * Admission of new runs against quotas that must hold across server processes: a tenant's runs per
 * UTC day and an API key's unfinished runs. Checking and reserving are one atomic step in the
 * store, so concurrent creates, in one process or many, never exceed a limit.
 *
 * <p>A granted admission holds a slot: {@link #bind} ties it to the run it created; {@link
 * #release} gives it back when no run was created (the create failed, or an {@code Idempotency-Key}
 * replay found an existing run). A slot that is never bound (the server died between admitting and
 * creating) stops counting after a grace period.
 */
public interface Admissions {
  /** A limit that refused an admission. */
  enum Limit {
    /** {@code quotas.runs-per-day}: runs the tenant created since 00:00 UTC. */
    RUNS_PER_DAY,
    /** {@code quotas.concurrent-runs-per-user}: unfinished runs of the API key. */
    UNFINISHED_PER_KEY
  }

  /** The answer to {@link #admit}. */
  sealed interface Verdict {}

  /**
   * Admitted; {@code slot} is held until bound or released.
   *
   * @param slot the slot's id
   */
  record Admitted(String slot) implements Verdict {
    /** Checks the slot is present. */
    public Admitted {
      Objects.requireNonNull(slot, "slot");
    }
  }

  /**
   * Refused by {@code limit}, with {@code used} counted against it.
   *
   * @param limit the limit reached
   * @param used what counts against it now
   */
  record Refused(Limit limit, long used) implements Verdict {
    /** Checks the limit is present. */
    public Refused {
      Objects.requireNonNull(limit, "limit");
    }
  }

  /**
   * Atomically checks {@code tenant}'s runs since {@code dayStart} against {@code runsPerDay} and
   * {@code keyId}'s unfinished runs against {@code unfinishedPerKey} (0 = unlimited) and, if both
   * have room, takes a slot that counts against both.
   */
  Verdict admit(
      String tenant, String keyId, Instant dayStart, long runsPerDay, int unfinishedPerKey);

  /** Ties {@code slot} to the run it admitted; the run counts until it ends. */
  void bind(String slot, RunId runId);

  /** Gives {@code slot} back: no run was created with it. */
  void release(String slot);

  /**
   * Deletes the slots that can no longer count against either limit: finished ones, ones bound to a
   * run that has ended, and unbound ones past the grace period. A bound slot never counts towards
   * the day (its run row does), so nothing that still matters is deleted.
   *
   * @return how many slots were deleted
   */
  int prune();
}
