package dev.keel.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.run.FaultInjector;
import dev.keel.store.StoreException;
import dev.keel.store.TenantScope;
import dev.keel.store.jdbc.GroupCommitter.Op;
import dev.keel.store.jdbc.GroupCommitter.Tx;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The server store: PostgreSQL through a HikariCP pool, {@code synchronous_commit=on}.
 *
 * <p>Writes go to a few group committers; all writes of one run go to the same committer, so the
 * committers never lock the same run rows and cannot deadlock each other. Claims use {@code FOR
 * UPDATE SKIP LOCKED} so workers in many processes never wait for each other nor get the same run.
 * Creates, signals, decisions and timed releases {@code NOTIFY} in their own transaction; a
 * listener on a dedicated connection outside the pool wakes {@link #awaitWork} within milliseconds,
 * in any process.
 */
public final class PostgresRunStore extends JdbcRunStore {
  private final PostgresConfig config;
  private final HikariDataSource pool;
  private final List<GroupCommitter> committers = new ArrayList<>();
  private final Thread listener;
  private volatile boolean open = true;
  private volatile @Nullable Connection listenConnection;
  // Whether the pool's role is subject to row-level security, so every transaction sets its tenant
  // scope (PgScope); false for a superuser, which would ignore it.
  private final boolean scoped;
  // The scope set so far in the current transaction of each committer connection (see write).
  private final java.util.Map<Connection, String> batchScope =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Connects, migrates the schema and starts the committers and the listener.
   *
   * @throws StoreException if the database cannot be reached or its schema is newer than this build
   *     knows
   */
  public PostgresRunStore(PostgresConfig config, FaultInjector faults) {
    super(Dialect.POSTGRES, faults);
    this.config = config;
    if (config.separateApplicationRole()) {
      // Migrate as the owner on a connection of its own; work as the application role after.
      try (HikariDataSource owner = pool(config, config.user(), config.password(), 1)) {
        StoreMigrations.ensure(owner, Dialect.POSTGRES, StoreMigrations.redact(config.url()));
      }
    }
    pool = pool(config, runtimeUser(config), runtimePassword(config), config.poolSize());
    try {
      if (!config.separateApplicationRole()) {
        StoreMigrations.ensure(pool, Dialect.POSTGRES, StoreMigrations.redact(config.url()));
      }
      try (Connection c = pool.getConnection()) {
        if (config.separateApplicationRole()) {
          PgScope.checkApplicationRole(c, StoreMigrations.redact(config.url()));
        }
        scoped = PgScope.enforced(c);
      } catch (SQLException e) {
        throw SqlErrors.wrap(
            "checking the role of the store at " + StoreMigrations.redact(config.url()), e);
      }
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    for (int i = 0; i < config.committers(); i++) {
      committers.add(
          new GroupCommitter(
              "keel-pg-committer-" + i,
              new GroupCommitter.ConnectionSource() {
                @Override
                public Connection acquire() throws SQLException {
                  Connection c = pool.getConnection();
                  c.setAutoCommit(false);
                  batchScope.remove(c); // a new transaction: no scope set yet
                  return c;
                }

                @Override
                public void publish(Connection c, Set<String> payloads) throws SQLException {
                  publishWork(c, payloads);
                }

                @Override
                public void rolledBack(Connection c) {
                  batchScope.remove(c); // the rollback undid the scope: set it again on rerun
                }

                @Override
                public void release(Connection c, boolean broken) {
                  batchScope.remove(c);
                  if (broken) {
                    pool.evictConnection(c);
                  }
                  try {
                    c.close();
                  } catch (SQLException ignored) {
                    // Hikari resets or discards it.
                  }
                }
              },
              config.maxBatch()));
    }
    listener = Thread.ofVirtual().name("keel-pg-listener").start(this::listen);
  }

  private static HikariDataSource pool(
      PostgresConfig config, String user, String password, int size) {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(config.url());
    if (!user.isEmpty()) {
      hc.setUsername(user);
    }
    if (!password.isEmpty()) {
      hc.setPassword(password);
    }
    hc.setMaximumPoolSize(size);
    hc.setPoolName(size == 1 ? "keel-store-migrate" : "keel-store");
    hc.setConnectionInitSql("SET synchronous_commit = on");
    hc.addDataSourceProperty("reWriteBatchedInserts", "true");
    try {
      return new HikariDataSource(hc);
    } catch (RuntimeException e) {
      throw new StoreException(
          "connecting to PostgreSQL at "
              + StoreMigrations.redact(config.url())
              + (user.isEmpty() ? "" : " as " + user)
              + " failed: "
              + e.getMessage(),
          true,
          e);
    }
  }

  private static String runtimeUser(PostgresConfig config) {
    return config.separateApplicationRole() ? config.appUser() : config.user();
  }

  private static String runtimePassword(PostgresConfig config) {
    return config.separateApplicationRole() ? config.appPassword() : config.password();
  }

  /** Whether every transaction sets its tenant scope (the role is subject to RLS). */
  boolean scoped() {
    return scoped;
  }

  @Override
  <T> T write(String route, String what, Op<T> op) {
    Op<T> scopedOp = op;
    if (scoped) {
      // Captured on the caller's thread: the committer may run the write on its own thread, in a
      // batch with other tenants' writes; each runs in its own savepoint with its own scope.
      String scope = TenantScope.current();
      scopedOp =
          tx -> {
            Connection c = tx.connection();
            // Set once per batch while the scope stays the same (workers' writes are all '*').
            if (!scope.equals(batchScope.get(c))) {
              PgScope.apply(c, scope);
              batchScope.put(c, scope);
            }
            try {
              return op.run(tx);
            } catch (Throwable t) {
              // The write's savepoint is rolled back, perhaps with the setting: set it again next.
              batchScope.remove(c);
              throw t;
            }
          };
    }
    return committers
        .get(Math.floorMod(route.hashCode(), committers.size()))
        .submit(route, what, scopedOp);
  }

  @Override
  <T> T writeMany(String what, Op<T> op) {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(!scoped);
      Tx tx = new Tx(c, null);
      try {
        if (scoped) {
          PgScope.apply(c);
        }
        T result = op.run(tx);
        if (!tx.published().isEmpty()) {
          publishWork(c, tx.published());
        }
        if (scoped) {
          c.commit();
        }
        tx.committed();
        return result;
      } catch (SQLException | RuntimeException e) {
        if (scoped) {
          c.rollback();
        }
        throw e;
      } finally {
        tx.closeStatements();
        if (scoped) {
          c.setAutoCommit(true);
        }
      }
    } catch (SQLException e) {
      throw SqlErrors.wrap(what + " (PostgreSQL " + StoreMigrations.redact(config.url()) + ")", e);
    }
  }

  @Override
  <T> T read(String what, ReadOp<T> op) {
    try (Connection c = pool.getConnection()) {
      if (!scoped) {
        c.setAutoCommit(true);
        return op.run(c);
      }
      // The tenant scope lasts one transaction, so the reads share one.
      c.setAutoCommit(false);
      try {
        PgScope.apply(c);
        T result = op.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw SqlErrors.wrap(what + " (PostgreSQL " + StoreMigrations.redact(config.url()) + ")", e);
    }
  }

  /** Notifies {@code payloads} on the work channel, inside {@code c}'s transaction. */
  private void publishWork(Connection c, Set<String> payloads) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT pg_notify(?, p) FROM unnest(?::text[]) AS p")) {
      ps.setString(1, config.channel());
      ps.setArray(2, c.createArrayOf("text", payloads.toArray()));
      ps.execute();
    }
  }

  private void listen() {
    while (open) {
      try (Connection c = connectListener()) {
        listenConnection = c;
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + config.channel());
        }
        work.wake(); // anything published while we were not listening is found by polling now
        PGConnection pg = c.unwrap(PGConnection.class);
        while (open) {
          PGNotification[] ns = pg.getNotifications(200);
          if (ns == null) {
            continue;
          }
          long now = System.currentTimeMillis();
          for (PGNotification n : ns) {
            long at = parse(n.getParameter(), now);
            if (at <= now) {
              work.wake();
            } else {
              work.timer(at);
            }
          }
        }
      } catch (SQLException e) {
        if (!open) {
          return;
        }
        work.wake();
        try {
          Thread.sleep(Duration.ofSeconds(1));
        } catch (InterruptedException ie) {
          return;
        }
      } finally {
        listenConnection = null;
      }
    }
  }

  private static long parse(String payload, long fallback) {
    if (payload.equals(WORK_NOW)) {
      return fallback;
    }
    try {
      return Long.parseLong(payload);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private Connection connectListener() throws SQLException {
    Properties p = new Properties();
    if (!runtimeUser(config).isEmpty()) {
      p.setProperty("user", runtimeUser(config));
    }
    if (!runtimePassword(config).isEmpty()) {
      p.setProperty("password", runtimePassword(config));
    }
    return DriverManager.getConnection(config.url(), p);
  }

  /** The committers' counters summed, as {@link GroupCommitter#stats}. */
  long[] commitStats() {
    long[] sum = new long[5];
    for (GroupCommitter c : committers) {
      long[] s = c.stats();
      for (int i = 0; i < sum.length; i++) {
        sum[i] += s[i];
      }
    }
    return sum;
  }

  /** Stops the committers after their queued writes, the listener, and the pool. */
  @Override
  public void close() {
    open = false;
    for (GroupCommitter c : committers) {
      c.stopSoon();
    }
    for (GroupCommitter c : committers) {
      c.close();
    }
    Connection lc = listenConnection;
    if (lc != null) {
      try {
        lc.close();
      } catch (SQLException ignored) {
        // The listener is stopping anyway.
      }
    }
    try {
      listener.join(Duration.ofSeconds(2));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool.close();
  }
}
