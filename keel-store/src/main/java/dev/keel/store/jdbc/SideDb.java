package dev.keel.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.sqlite.SQLiteConfig;

/**
 * A few connections of their own to the store's database, for the tables that live beside the run
 * store (idempotency answers, the run list, webhook deliveries). The run store opens and migrates
 * the schema first; this class only connects.
 *
 * <p>Implementation notes. PostgreSQL goes through a small HikariCP pool; SQLite through a fixed
 * set of read-write connections in WAL mode with a busy timeout, so a write waits for the run
 * store's writer instead of failing. Each operation runs in autocommit unless it opens a
 * transaction itself.
 */
public final class SideDb implements AutoCloseable {
  /** Work on a connection. */
  @FunctionalInterface
  public interface Work<T> {
    /** Does the work. */
    T run(Connection c) throws SQLException;
  }

  private final Dialect dialect;
  private final String where;
  private final HikariDataSource pool;
  private final BlockingQueue<Connection> sqlite;
  private final List<Connection> all = new ArrayList<>();
  // Whether the PostgreSQL role is subject to row-level security: then each use is one transaction
  // that sets the current TenantScope first (PgScope).
  private volatile boolean scoped;
  // The run store whose group commits joinedTx joins (SQLite only), if attached.
  private volatile @org.jspecify.annotations.Nullable SqliteRunStore committer;

  private SideDb(Dialect dialect, String where, HikariDataSource pool, int sqliteConnections) {
    this.dialect = dialect;
    this.where = where;
    this.pool = pool;
    this.sqlite = new ArrayBlockingQueue<>(Math.max(1, sqliteConnections));
  }

  /**
   * Connects to the database at {@code url} ({@code user} and {@code password} may be empty, then
   * the URL carries them) with at most {@code size} connections.
   */
  public static SideDb open(String url, String user, String password, int size) {
    Dialect d = Stores.dialectOf(url);
    String where = StoreMigrations.redact(url);
    if (d == Dialect.POSTGRES) {
      HikariConfig hc = new HikariConfig();
      hc.setJdbcUrl(url);
      if (!user.isEmpty()) {
        hc.setUsername(user);
      }
      if (!password.isEmpty()) {
        hc.setPassword(password);
      }
      hc.setMaximumPoolSize(size);
      hc.setMinimumIdle(1);
      hc.setPoolName("keel-side");
      try {
        SideDb db = new SideDb(d, where, new HikariDataSource(hc), 0);
        try (Connection c = db.pool.getConnection()) {
          db.scoped = PgScope.enforced(c);
        } catch (SQLException e) {
          db.close();
          throw SqlErrors.wrap("checking the role of the store at " + where, e);
        }
        return db;
      } catch (RuntimeException e) {
        throw new StoreException(
            "connecting to PostgreSQL at " + where + " failed: " + e.getMessage(), true, e);
      }
    }
    SideDb db = new SideDb(d, where, null, size);
    try {
      for (int i = 0; i < size; i++) {
        SQLiteConfig c = new SQLiteConfig();
        c.setJournalMode(SQLiteConfig.JournalMode.WAL);
        c.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        c.setBusyTimeout(10_000);
        c.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        Connection conn = c.createConnection(url);
        db.all.add(conn);
        db.sqlite.add(conn);
      }
    } catch (SQLException e) {
      db.close();
      throw SqlErrors.wrap("opening the SQLite store at " + where, e);
    }
    return db;
  }

  /** Whether this is PostgreSQL (else SQLite). */
  public boolean postgres() {
    return dialect == Dialect.POSTGRES;
  }

  /** Runs {@code work} on a connection; {@code what} names it in errors. */
  public <T> T with(String what, Work<T> work) {
    if (pool != null) {
      try (Connection c = pool.getConnection()) {
        if (!scoped) {
          return work.run(c);
        }
        // The tenant scope lasts one transaction: the work runs in one (tx() commits its own).
        c.setAutoCommit(false);
        try {
          PgScope.apply(c);
          T t = work.run(c);
          if (!c.getAutoCommit()) {
            c.commit();
          }
          return t;
        } catch (SQLException | RuntimeException e) {
          if (!c.getAutoCommit()) {
            c.rollback();
          }
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
      } catch (SQLException e) {
        throw SqlErrors.wrap(what + " (PostgreSQL " + where + ")", e);
      }
    }
    Connection c;
    try {
      c = sqlite.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(what + " was interrupted waiting for a connection", true, e);
    }
    try {
      return work.run(c);
    } catch (SQLException e) {
      throw SqlErrors.wrap(what + " (SQLite " + where + ")", e);
    } finally {
      sqlite.add(c);
    }
  }

  /** Runs {@code work} in one transaction, committed when it returns, rolled back if it throws. */
  public <T> T tx(String what, Work<T> work) {
    return with(
        what,
        c -> {
          c.setAutoCommit(false);
          try {
            T t = work.run(c);
            c.commit();
            return t;
          } catch (SQLException | RuntimeException e) {
            try {
              c.rollback();
            } catch (SQLException ignored) {
              // the original failure is reported
            }
            throw e;
          } finally {
            c.setAutoCommit(true);
          }
        });
  }

  /**
   * Lets {@link #joinedTx} join the group commits of {@code store} when both are the same SQLite
   * database; with any other store (PostgreSQL, or none) nothing changes. Returns this.
   */
  public SideDb joiningCommitsOf(dev.keel.store.RunStore store) {
    if (pool == null && store instanceof SqliteRunStore s) {
      committer = s;
    }
    return this;
  }

  /**
   * Runs {@code work} in one transaction, committed durably before this returns, rolled back if it
   * throws; like {@link #tx}. On SQLite, when attached to the run store ({@link
   * #joiningCommitsOf}), the work runs on the store's one writer inside its next group commit, so
   * it shares that batch's transaction and fsync with the run writes of other requests instead of
   * taking the file's write lock for a commit of its own (decision 0047). The work may then run
   * twice (a batch is run again when another request of it fails), so it must be database work
   * only.
   */
  public <T> T joinedTx(String what, Work<T> work) {
    SqliteRunStore s = committer;
    if (s == null) {
      return tx(what, work);
    }
    return s.writeMany(what, t -> work.run(t.connection()));
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.close();
    }
    for (Connection c : all) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing
      }
    }
  }
}
