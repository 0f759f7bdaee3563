package dev.keel.bench;

import dev.keel.store.RunStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One fresh database the benchmark owns: the floor's table and at most one Keel store live in it,
 * on the same engine and disk, and it is deleted when closed.
 */
sealed interface BenchDatabase extends AutoCloseable
    permits SqliteDatabase, PostgresDatabase, MemoryDatabase {

  /** A short key, such as {@code sqlite}. */
  String key();

  /** What the database is and how it syncs, for the table. */
  String label();

  /** Whether the floor can be measured here (not in memory). */
  boolean hasFloor();

  /** A new connection with auto-commit on, to a database where the floor table exists. */
  Connection floorConnection() throws SQLException;

  /**
   * Whether concurrent floor runs share one connection under a lock (SQLite has one writer), rather
   * than using a connection each.
   */
  boolean floorSharesOneConnection();

  /** Opens Keel's store on this database; the caller closes it. */
  RunStore openStore();

  /**
   * Whether the store keeps every run in the heap for good (the in-memory fake): its warm-ups then
   * run on a store of their own that is dropped before the timed batches, or the warm-up's runs
   * would fill the heap and the timed batches would measure the collector.
   */
  default boolean keepsRunsInHeap() {
    return false;
  }

  /**
   * The JDBC driver methods ({@code class::method}) that count Keel's explicit commits and the
   * statements it sends, for {@link DriverCalls}; empty where there is no driver.
   *
   * @param commit called once per commit, where that is so (on PostgreSQL the pool's resets call
   *     commit() too, so there the database's own count is used instead)
   * @param statement called once per statement sent: a round trip on PostgreSQL, a statement
   *     compiled on SQLite
   */
  record DriverProbe(Optional<String> commit, String statement) {}

  /** Where to count driver calls, if anywhere. */
  Optional<DriverProbe> driverProbe();

  /** Transactions committed in this database so far, where the database counts them. */
  OptionalLong transactions();

  /** Bytes the Keel store occupies, where it is on disk. */
  OptionalLong storeBytes();

  /** Deletes the database. */
  @Override
  void close();
}
