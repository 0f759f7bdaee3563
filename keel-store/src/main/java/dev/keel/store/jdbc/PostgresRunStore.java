package dev.keel.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.run.FaultInjector;
import dev.keel.store.StoreException;
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

  /**
   * Connects, migrates the schema and starts the committers and the listener.
   *
   * @throws StoreException if the database cannot be reached or its schema is newer than this build
   *     knows
   */
  public PostgresRunStore(PostgresConfig config, FaultInjector faults) {
    super(Dialect.POSTGRES, faults);
    this.config = config;
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(config.url());
    if (!config.user().isEmpty()) {
      hc.setUsername(config.user());
    }
    if (!config.password().isEmpty()) {
      hc.setPassword(config.password());
    }
    hc.setMaximumPoolSize(config.poolSize());
    hc.setPoolName("keel-store");
    hc.setConnectionInitSql("SET synchronous_commit = on");
    hc.addDataSourceProperty("reWriteBatchedInserts", "true");
    try {
      pool = new HikariDataSource(hc);
    } catch (RuntimeException e) {
      throw new StoreException(
          "connecting to PostgreSQL at "
              + StoreMigrations.redact(config.url())
              + " failed: "
              + e.getMessage(),
          true,
          e);
    }
    try {
      StoreMigrations.ensure(pool, Dialect.POSTGRES, StoreMigrations.redact(config.url()));
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
                  return c;
                }

                @Override
                public void publish(Connection c, Set<String> payloads) throws SQLException {
                  publishWork(c, payloads);
                }

                @Override
                public void release(Connection c, boolean broken) {
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

  @Override
  <T> T write(String route, String what, Op<T> op) {
    return committers
        .get(Math.floorMod(route.hashCode(), committers.size()))
        .submit(route, what, op);
  }

  @Override
  <T> T writeMany(String what, Op<T> op) {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(true);
      Tx tx = new Tx(c, null);
      try {
        T result = op.run(tx);
        if (!tx.published().isEmpty()) {
          publishWork(c, tx.published());
        }
        tx.committed();
        return result;
      } finally {
        tx.closeStatements();
      }
    } catch (SQLException e) {
      throw SqlErrors.wrap(what + " (PostgreSQL " + StoreMigrations.redact(config.url()) + ")", e);
    }
  }

  @Override
  <T> T read(String what, ReadOp<T> op) {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(true);
      return op.run(c);
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
    if (!config.user().isEmpty()) {
      p.setProperty("user", config.user());
    }
    if (!config.password().isEmpty()) {
      p.setProperty("password", config.password());
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
