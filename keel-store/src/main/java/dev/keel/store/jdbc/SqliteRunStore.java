package dev.keel.store.jdbc;

import dev.keel.run.FaultInjector;
import dev.keel.store.StoreException;
import dev.keel.store.jdbc.GroupCommitter.Op;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The embedded store: one SQLite file in WAL mode with {@code synchronous=FULL}.
 *
 * <p>SQLite has one writer, so this store has exactly one write connection, used only by its group
 * committer (under a lock) and a few read connections that read the WAL concurrently. Claims and
 * renewals are writes, so they go through the committer too; the write transaction begins IMMEDIATE
 * so another process using the same file waits on {@code busy_timeout} instead of failing at
 * commit. {@link #awaitWork} wakes waiters of this process only.
 */
public final class SqliteRunStore extends JdbcRunStore {
  /**
   * WAL pages after which a commit of the writer copies the WAL back into the database file.
   * SQLite's default, 1,000 pages, made nearly every group commit of many runs (each run's rows on
   * pages of their own, hundreds of pages per batch) also a checkpoint, with its own writes and
   * fsync, on the commit's path. Ten times as many pages makes checkpoints ten times rarer, and
   * each copies a page written many times over only once. The WAL then grows to about 40 MB before
   * it is reused. See decision 0011; durability is unchanged (every commit still syncs the WAL).
   */
  static final int WAL_AUTOCHECKPOINT_PAGES = 10_000;

  /** The writer's page cache, in KiB. */
  static final int WRITER_CACHE_KIB = 32 * 1024;

  /** Each reader's page cache, in KiB. */
  static final int READER_CACHE_KIB = 8 * 1024;

  private final SqliteConfig config;
  private final Connection writer;
  private final ReentrantLock writerLock = new ReentrantLock();
  private final BlockingQueue<CachingConnection> readers;
  private final List<Connection> allReaders = new ArrayList<>();
  private final List<CachingConnection> cachingReaders = new ArrayList<>();
  private final GroupCommitter committer;
  // Used only by the committer thread, while it holds the writer.
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  /**
   * Opens (creating if needed) and migrates the store at {@code config.url()}.
   *
   * @throws StoreException if the file cannot be opened, WAL cannot be enabled, or the schema is
   *     newer than this build knows
   */
  public SqliteRunStore(SqliteConfig config, FaultInjector faults) {
    super(Dialect.SQLITE, faults);
    this.config = config;
    List<Connection> opened = new ArrayList<>();
    try {
      writer = open(false);
      opened.add(writer);
      check(writer, "PRAGMA journal_mode", "wal");
      check(
          writer,
          "PRAGMA synchronous",
          config.synchronous() == SqliteConfig.Synchronous.FULL ? "2" : "1");
      try (Statement s = writer.createStatement()) {
        s.execute("PRAGMA wal_autocheckpoint = " + WAL_AUTOCHECKPOINT_PAGES);
      }
      SQLiteDataSource ds = new SQLiteDataSource();
      ds.setUrl(config.url());
      StoreMigrations.ensure(ds, Dialect.SQLITE, config.url());
      readers = new ArrayBlockingQueue<>(config.readers());
      for (int i = 0; i < config.readers(); i++) {
        Connection r = open(true);
        opened.add(r);
        allReaders.add(r);
        CachingConnection cached = new CachingConnection(r);
        cachingReaders.add(cached);
        readers.add(cached);
      }
    } catch (SQLException e) {
      closeAll(opened);
      throw SqlErrors.wrap("opening the SQLite store at " + config.url(), e);
    } catch (RuntimeException e) {
      closeAll(opened);
      throw e;
    }
    committer =
        new GroupCommitter(
            "keel-sqlite-committer",
            new GroupCommitter.ConnectionSource() {
              @Override
              public Connection acquire() {
                // The write transaction (BEGIN IMMEDIATE, which sqlite-jdbc issues when autocommit
                // goes off) is opened only while a batch runs: between batches this process holds
                // no lock on the file, so other processes (workers, keel migrate, the CLI) can
                // write.
                writerLock.lock();
                try {
                  writer.setAutoCommit(false);
                } catch (SQLException e) {
                  writerLock.unlock();
                  throw SqlErrors.wrap("beginning a SQLite write transaction", e);
                }
                return writer;
              }

              @Override
              public void commit(Connection c) throws SQLException {
                // Turning auto-commit back on commits (one COMMIT) and leaves no transaction open.
                // Connection.commit() would COMMIT and at once BEGIN IMMEDIATE again, and release
                // would then COMMIT that empty transaction: two more statements and one more
                // take of the write lock per batch.
                writer.setAutoCommit(true);
              }

              @Override
              public void release(Connection c, boolean broken) {
                try {
                  if (broken) {
                    rollbackOpenTransaction();
                  }
                  writer.setAutoCommit(true);
                } catch (SQLException e) {
                  // the next acquire will fail and report it
                } finally {
                  writerLock.unlock();
                }
              }

              @Override
              public Map<String, PreparedStatement> statementCache() {
                return statements;
              }
            },
            config.maxBatch());
  }

  private Connection open(boolean readOnly) throws SQLException {
    SQLiteConfig c = new SQLiteConfig();
    c.setJournalMode(SQLiteConfig.JournalMode.WAL);
    c.setSynchronous(
        config.synchronous() == SqliteConfig.Synchronous.FULL
            ? SQLiteConfig.SynchronousMode.FULL
            : SQLiteConfig.SynchronousMode.NORMAL);
    c.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, config.busyTimeout().toMillis()));
    c.enforceForeignKeys(true);
    c.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    // No "SELECT last_insert_rowid()" after every INSERT: the store never reads generated keys.
    c.setGetGeneratedKeys(false);
    // SQLite's default page cache is 2 MB per connection; the event log's B-tree is keyed by run
    // and so written all over, and once it outgrows the cache every append reads pages back from
    // the OS. A negative size is in KiB.
    c.setCacheSize(readOnly ? -READER_CACHE_KIB : -WRITER_CACHE_KIB);
    if (readOnly) {
      c.setReadOnly(true);
    }
    return c.createConnection(config.url());
  }

  /**
   * After a failed batch, ends any transaction SQLite still has open on the writer. A COMMIT that
   * failed while turning auto-commit on leaves the driver in auto-commit mode, where {@code
   * rollback()} refuses, but SQLite may still hold the transaction and the write lock.
   */
  private void rollbackOpenTransaction() {
    try {
      if (writer.getAutoCommit()) {
        try (Statement s = writer.createStatement()) {
          s.execute("ROLLBACK");
        }
      }
    } catch (SQLException e) {
      // No transaction was open ("cannot rollback - no transaction is active"): nothing to end.
    }
  }

  private static void check(Connection c, String pragma, String expected) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(pragma);
        ResultSet rs = ps.executeQuery()) {
      String actual = rs.next() ? rs.getString(1) : "";
      if (!expected.equals(actual.toLowerCase(Locale.ROOT))) {
        throw new StoreException(
            pragma
                + " is '"
                + actual
                + "', expected '"
                + expected
                + "'; the store would not be"
                + " as durable as configured (is the file on a filesystem without shared memory?)",
            false);
      }
    }
  }

  @Override
  <T> T write(String route, String what, Op<T> op) {
    return committer.submit(route, what, op);
  }

  @Override
  <T> T writeMany(String what, Op<T> op) {
    return committer.submit(what, op);
  }

  @Override
  <T> T read(String what, ReadOp<T> op) {
    CachingConnection c;
    try {
      c = readers.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(what + " was interrupted waiting for a read connection", true, e);
    }
    try {
      // Statements are compiled once per reader and kept (decision 0046).
      return op.run(c.view());
    } catch (SQLException e) {
      throw SqlErrors.wrap(what + " (SQLite " + config.url() + ")", e);
    } finally {
      readers.add(c);
    }
  }

  /** The committer's counters, as {@link GroupCommitter#stats}. */
  long[] commitStats() {
    return committer.stats();
  }

  /** Stops the committer after its queued writes, then closes every connection. */
  @Override
  public void close() {
    committer.close();
    writerLock.lock();
    try {
      for (PreparedStatement ps : statements.values()) {
        try {
          ps.close();
        } catch (SQLException ignored) {
          // The connection closes next.
        }
      }
      statements.clear();
      for (CachingConnection r : cachingReaders) {
        r.closeStatements();
      }
      List<Connection> all = new ArrayList<>(allReaders);
      all.add(writer);
      closeAll(all);
    } finally {
      writerLock.unlock();
    }
  }

  private static void closeAll(List<Connection> connections) {
    for (Connection c : connections) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Closing: nothing is left to do with a connection that fails to close.
      }
    }
  }
}
