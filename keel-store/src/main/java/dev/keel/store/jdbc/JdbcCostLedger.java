package dev.keel.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.store.CostLedger;
import dev.keel.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * The {@link CostLedger} on SQLite or PostgreSQL, in its own tables ({@code tenant_budgets}, {@code
 * cost_reservations}, migration V15), beside the run store in the same database. Open it after the
 * run store, which migrates the schema.
 *
 * <p>Implementation notes: a reservation is one transaction: an existing reservation of the same id
 * is granted again (idempotence); a tenant without a budget row is unlimited (the reservation is
 * still kept, for attribution); otherwise the conditional {@code UPDATE tenant_budgets SET
 * reserved_micros = reserved_micros + ? WHERE tenant = ? AND spent_micros + reserved_micros + ? <=
 * limit_micros} decides. On PostgreSQL the row lock taken by that update serialises concurrent
 * reservations of one tenant and the condition is evaluated again on the locked row, so two runs
 * can never both take the last of a budget; on SQLite the write transaction ({@code BEGIN
 * IMMEDIATE}) serialises them. A settle moves the reservation's amount from reserved to the real
 * cost in spent, once.
 */
public final class JdbcCostLedger implements CostLedger, AutoCloseable {
  private final Dialect dialect;
  private final InstantSource clock;
  private final Optional<HikariDataSource> pool;
  private final Optional<Connection> sqlite;
  private final ReentrantLock sqliteLock = new ReentrantLock();
  // Whether the PostgreSQL role is subject to row-level security (PgScope); found on first use.
  private volatile @org.jspecify.annotations.Nullable Boolean scoped;

  /**
   * Opens the ledger at {@code url} ({@code jdbc:sqlite:...} or {@code jdbc:postgresql:...}).
   *
   * @throws StoreException if the database cannot be reached
   */
  public JdbcCostLedger(String url, String user, String password, InstantSource clock) {
    this.dialect = Stores.dialectOf(url);
    this.clock = Objects.requireNonNull(clock, "clock");
    try {
      if (dialect == Dialect.SQLITE) {
        SQLiteConfig c = new SQLiteConfig();
        c.setJournalMode(SQLiteConfig.JournalMode.WAL);
        c.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        c.setBusyTimeout(10_000);
        c.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        this.sqlite = Optional.of(c.createConnection(url));
        this.pool = Optional.empty();
      } else {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        if (!user.isEmpty()) {
          hc.setUsername(user);
        }
        if (!password.isEmpty()) {
          hc.setPassword(password);
        }
        hc.setMaximumPoolSize(8);
        hc.setPoolName("keel-cost-ledger");
        hc.setAutoCommit(false);
        this.pool = Optional.of(new HikariDataSource(hc));
        this.sqlite = Optional.empty();
      }
    } catch (SQLException | RuntimeException e) {
      throw new StoreException(
          "cannot open the cost ledger at " + StoreMigrations.redact(url) + ": " + e.getMessage(),
          false,
          e);
    }
  }

  /**
   * A budget's state.
   *
   * @param limitMicros the budget
   * @param reservedMicros reserved by calls not yet settled
   * @param spentMicros the real cost of settled calls
   */
  public record Budget(long limitMicros, long reservedMicros, long spentMicros) {}

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T inTransaction(String what, Work<T> work) {
    if (sqlite.isPresent()) {
      sqliteLock.lock();
      try {
        return transact(sqlite.get(), what, work);
      } finally {
        sqliteLock.unlock();
      }
    }
    try (Connection c = pool.orElseThrow().getConnection()) {
      Boolean rls = scoped;
      if (rls == null) {
        rls = PgScope.enforced(c);
        c.commit();
        scoped = rls;
      }
      if (rls) {
        String scope = dev.keel.store.TenantScope.current();
        return transact(
            c,
            what,
            tx -> {
              PgScope.apply(tx, scope);
              return work.run(tx);
            });
      }
      return transact(c, what, work);
    } catch (SQLException e) {
      throw SqlErrors.wrap(what, e);
    }
  }

  private static <T> T transact(Connection c, String what, Work<T> work) {
    try {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw SqlErrors.wrap(what, e);
    }
  }

  /** Sets {@code tenant}'s budget to {@code limitMicros}, keeping what is reserved and spent. */
  public void setLimit(String tenant, long limitMicros) {
    if (limitMicros < 0) {
      throw new IllegalArgumentException("a budget must not be negative, got " + limitMicros);
    }
    inTransaction(
        "setting the budget of tenant " + tenant,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO tenant_budgets (tenant, limit_micros) VALUES (?, ?)"
                      + " ON CONFLICT (tenant) DO UPDATE SET limit_micros = excluded.limit_micros")) {
            ps.setString(1, tenant);
            ps.setLong(2, limitMicros);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** {@code tenant}'s budget, if it has one. */
  public Optional<Budget> budget(String tenant) {
    return inTransaction(
        "reading the budget of tenant " + tenant,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT limit_micros, reserved_micros, spent_micros FROM tenant_budgets"
                      + " WHERE tenant = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(new Budget(rs.getLong(1), rs.getLong(2), rs.getLong(3)))
                  : Optional.<Budget>empty();
            }
          }
        });
  }

  @Override
  public boolean reserve(String tenant, String runId, String reservationId, long micros) {
    if (micros < 0) {
      throw new IllegalArgumentException("a reservation must not be negative, got " + micros);
    }
    try {
      return inTransaction(
          "reserving " + micros + " micro-USD for " + runId,
          c -> {
            @org.jspecify.annotations.Nullable String status = null;
            try (PreparedStatement ps =
                c.prepareStatement(
                    "SELECT status FROM cost_reservations WHERE tenant = ? AND reservation_id = ?")) {
              ps.setString(1, tenant);
              ps.setString(2, reservationId);
              try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                  status = rs.getString(1);
                }
              }
            }
            if ("open".equals(status)) {
              return true;
            }
            boolean limited;
            try (PreparedStatement ps =
                c.prepareStatement("SELECT 1 FROM tenant_budgets WHERE tenant = ?")) {
              ps.setString(1, tenant);
              try (ResultSet rs = ps.executeQuery()) {
                limited = rs.next();
              }
            }
            if (limited) {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "UPDATE tenant_budgets SET reserved_micros = reserved_micros + ?"
                          + " WHERE tenant = ? AND spent_micros + reserved_micros + ?"
                          + " <= limit_micros")) {
                ps.setLong(1, micros);
                ps.setString(2, tenant);
                ps.setLong(3, micros);
                if (ps.executeUpdate() != 1) {
                  return false;
                }
              }
            }
            if (status != null) {
              // settled, yet asked again: the call is being made again after a crash that lost
              // its answer, so it is reserved (and will be settled and counted) again
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "UPDATE cost_reservations SET status = 'open', reserved_micros = ?"
                          + " WHERE tenant = ? AND reservation_id = ?")) {
                ps.setLong(1, limited ? micros : 0);
                ps.setString(2, tenant);
                ps.setString(3, reservationId);
                ps.executeUpdate();
              }
              return true;
            }
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO cost_reservations (tenant, reservation_id, run_id,"
                        + " reserved_micros, status, created_ms) VALUES (?, ?, ?, ?, 'open', ?)")) {
              ps.setString(1, tenant);
              ps.setString(2, reservationId);
              ps.setString(3, runId);
              ps.setLong(4, limited ? micros : 0);
              ps.setLong(5, clock.millis());
              ps.executeUpdate();
            }
            return true;
          });
    } catch (StoreException e) {
      if (e.getCause() instanceof SQLException s && isDuplicate(s)) {
        return true; // the same reservation was made concurrently, and committed
      }
      throw e;
    }
  }

  private boolean isDuplicate(SQLException s) {
    return dialect == Dialect.POSTGRES
        ? "23505".equals(s.getSQLState())
        : String.valueOf(s.getMessage()).contains("UNIQUE constraint failed");
  }

  @Override
  public void settle(String tenant, String reservationId, long actualMicros) {
    if (actualMicros < 0) {
      throw new IllegalArgumentException("a cost must not be negative, got " + actualMicros);
    }
    inTransaction(
        "settling reservation " + reservationId,
        c -> {
          long reserved;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT reserved_micros FROM cost_reservations"
                      + " WHERE tenant = ? AND reservation_id = ? AND status = 'open'")) {
            ps.setString(1, tenant);
            ps.setString(2, reservationId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return null;
              }
              reserved = rs.getLong(1);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE cost_reservations SET status = 'settled',"
                      + " actual_micros = COALESCE(actual_micros, 0) + ?"
                      + " WHERE tenant = ? AND reservation_id = ? AND status = 'open'")) {
            ps.setLong(1, actualMicros);
            ps.setString(2, tenant);
            ps.setString(3, reservationId);
            if (ps.executeUpdate() != 1) {
              return null;
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE tenant_budgets SET reserved_micros = reserved_micros - ?,"
                      + " spent_micros = spent_micros + ? WHERE tenant = ?")) {
            ps.setLong(1, reserved);
            ps.setLong(2, actualMicros);
            ps.setString(3, tenant);
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public void close() {
    pool.ifPresent(HikariDataSource::close);
    sqlite.ifPresent(
        c -> {
          try {
            c.close();
          } catch (SQLException ignored) {
            // closing; nothing to do
          }
        });
  }
}
