package dev.keel.store.jdbc;

import dev.keel.run.RunId;
import dev.keel.store.Admissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.UUID;

/**
 * {@link Admissions} in the store's database (table {@code run_admissions}, schema 31), shared by
 * every server process on that database.
 *
 * <p>Implementation notes. One transaction counts and takes the slot. On PostgreSQL it first takes
 * a transaction-scoped advisory lock on the tenant, so the admissions of one tenant (and so of each
 * of its keys) are serialised across processes while other tenants' proceed; on SQLite the
 * transaction begins {@code IMMEDIATE}, which serialises every writer of the file. Counting after
 * the lock sees every admission committed before it.
 *
 * <ul>
 *   <li>Runs per day: the tenant's run rows created since the day's start, plus its slots not yet
 *       bound to a run, plus its slots bound to a run that is not written yet (creates in flight:
 *       the server binds a slot to the new run's id before creating it, so a run and its slot never
 *       count twice; decision 0049).
 *   <li>Unfinished runs per key: the key's slots not marked finished. Before counting, slots whose
 *       run has ended, and unbound slots older than {@link #GRACE} (a server died between admitting
 *       and creating), are marked finished.
 * </ul>
 */
public final class JdbcAdmissions implements Admissions {
  /** How long a slot may stay unbound before it stops counting. */
  static final Duration GRACE = Duration.ofSeconds(60);

  private static final String TERMINAL = "('completed', 'failed', 'cancelled', 'timed_out')";

  private final SideDb db;
  private final InstantSource clock;

  /** Admissions in {@code db}'s database, by the system clock. */
  public JdbcAdmissions(SideDb db) {
    this(db, InstantSource.system());
  }

  /** Admissions in {@code db}'s database, by {@code clock}. */
  public JdbcAdmissions(SideDb db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public Verdict admit(
      String tenant, String keyId, Instant dayStart, long runsPerDay, int unfinishedPerKey) {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(dayStart, "dayStart");
    return db.joinedTx(
        "admitting a run of tenant " + tenant + " for key " + keyId,
        c -> {
          long now = clock.millis();
          long stale = now - GRACE.toMillis();
          if (db.postgres()) {
            try (PreparedStatement ps =
                c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
              ps.setString(1, "keel.admission:" + tenant);
              ps.execute();
            }
          }
          if (runsPerDay > 0) {
            long day = dayStart.toEpochMilli();
            // One statement, so one snapshot on PostgreSQL (read committed takes a new one per
            // statement): every create in flight is counted exactly once, as an unbound slot, as
            // a slot bound to a run not written yet, or as the run (decision 0049).
            long since = Math.max(day, stale);
            long used;
            try (PreparedStatement ps =
                c.prepareStatement(
                    "SELECT (SELECT count(*) FROM runs WHERE tenant_id = ? AND created_at >= ?)"
                        + " + (SELECT count(*) FROM run_admissions WHERE tenant_id = ?"
                        + " AND run_id IS NULL AND finished = 0 AND created_at >= ?)"
                        + " + (SELECT count(*) FROM run_admissions a WHERE a.tenant_id = ?"
                        + " AND a.run_id IS NOT NULL AND a.finished = 0 AND a.created_at >= ?"
                        + " AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = a.run_id))")) {
              ps.setString(1, tenant);
              ps.setLong(2, day);
              ps.setString(3, tenant);
              ps.setLong(4, since);
              ps.setString(5, tenant);
              ps.setLong(6, since);
              try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                used = rs.getLong(1);
              }
            }
            if (used >= runsPerDay) {
              return new Refused(Limit.RUNS_PER_DAY, used);
            }
          }
          if (unfinishedPerKey > 0) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE run_admissions SET finished = 1 WHERE key_id = ? AND finished = 0"
                        + " AND (((run_id IS NULL OR NOT EXISTS (SELECT 1 FROM runs r"
                        + " WHERE r.id = run_admissions.run_id)) AND created_at < ?) OR run_id IN"
                        + " (SELECT id FROM runs WHERE status IN "
                        + TERMINAL
                        + "))")) {
              ps.setString(1, keyId);
              ps.setLong(2, stale);
              ps.executeUpdate();
            }
            long used =
                count(
                    c,
                    "SELECT count(*) FROM run_admissions WHERE key_id = ? AND finished = 0",
                    keyId,
                    null);
            if (used >= unfinishedPerKey) {
              return new Refused(Limit.UNFINISHED_PER_KEY, used);
            }
          }
          String slot = "adm_" + UUID.randomUUID().toString().replace("-", "");
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO run_admissions (slot, tenant_id, key_id, created_at)"
                      + " VALUES (?, ?, ?, ?)")) {
            ps.setString(1, slot);
            ps.setString(2, tenant);
            ps.setString(3, keyId);
            ps.setLong(4, now);
            ps.executeUpdate();
          }
          return new Admitted(slot);
        });
  }

  private static long count(
      Connection c, String sql, String key, @org.jspecify.annotations.Nullable Long since)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, key);
      if (since != null) {
        ps.setLong(2, since);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  public void bind(String slot, RunId runId) {
    db.joinedTx(
        "binding admission " + slot + " to " + runId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("UPDATE run_admissions SET run_id = ? WHERE slot = ?")) {
            ps.setString(1, runId.value());
            ps.setString(2, slot);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public int prune() {
    // Twice the grace: a slot another server would still count, by a clock a little behind this
    // one, is not deleted.
    long stale = clock.millis() - 2 * GRACE.toMillis();
    // Every tenant's slots (a maintenance pass, not a request of one tenant; decision 0043).
    try (dev.keel.store.TenantScope.Entered all = dev.keel.store.TenantScope.enterEveryTenant()) {
      return db.joinedTx(
          "pruning admission slots",
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "DELETE FROM run_admissions WHERE finished = 1"
                        + " OR ((run_id IS NULL OR NOT EXISTS (SELECT 1 FROM runs r0"
                        + " WHERE r0.id = run_admissions.run_id)) AND created_at < ?)"
                        + " OR EXISTS (SELECT 1 FROM runs r WHERE r.id = run_admissions.run_id"
                        + " AND r.status IN "
                        + TERMINAL
                        + ")")) {
              ps.setLong(1, stale);
              return ps.executeUpdate();
            }
          });
    }
  }

  @Override
  public void release(String slot) {
    db.joinedTx(
        "releasing admission " + slot,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM run_admissions WHERE slot = ?")) {
            ps.setString(1, slot);
            return ps.executeUpdate();
          }
        });
  }
}
