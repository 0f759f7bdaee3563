package dev.keel.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The physical floor of a durable step on a database: one INSERT of (run id, sequence, a JSON
 * payload of about 60 bytes) and one COMMIT per step, with nothing else. This is the method of the
 * peer benchmarks ({@code shared/research/perf-peers.md}), in the same process as Keel's figures.
 *
 * <p>Concurrent runs each use a platform thread; on PostgreSQL each has its own connection, so the
 * server's group commit can merge their fsyncs; SQLite has a single writer, so its runs share one
 * connection under a lock.
 */
final class Floor {
  private final BenchDatabase db;
  private static final AtomicInteger RUNS = new AtomicInteger();

  /** A floor on {@code db}. */
  Floor(BenchDatabase db) {
    if (!db.hasFloor()) {
      throw new IllegalArgumentException(db.key() + " has no floor");
    }
    this.db = db;
  }

  /** The JSON payload of step {@code seq}: about 60 bytes, like an event. */
  static String payload(int seq) {
    return String.format(
        Locale.ROOT, "{\"type\":\"tool.succeeded\",\"call\":\"c%d\",\"data\":null,\"ok\":1}", seq);
  }

  private String insertSql() {
    String table = db.key().equals("postgres") ? "bench_floor.floor_steps" : "floor_steps";
    String json = db.key().equals("postgres") ? "CAST(? AS jsonb)" : "?";
    return "INSERT INTO " + table + " (run_id, seq, payload) VALUES (?, ?, " + json + ")";
  }

  /** Runs one run of {@code steps} steps and returns its wall time in milliseconds. */
  double singleRunMillis(int steps) throws SQLException {
    try (Connection c = db.floorConnection();
        PreparedStatement ps = c.prepareStatement(insertSql())) {
      String runId = "floor-" + RUNS.incrementAndGet();
      long start = System.nanoTime();
      for (int seq = 1; seq <= steps; seq++) {
        insert(ps, runId, seq);
      }
      return (System.nanoTime() - start) / 1e6;
    }
  }

  private static void insert(PreparedStatement ps, String runId, int seq) throws SQLException {
    ps.setString(1, runId);
    ps.setInt(2, seq);
    ps.setString(3, payload(seq));
    ps.executeUpdate();
  }

  /**
   * Runs {@code runs} runs of {@code steps} steps started together and returns the steps per second
   * of the batch.
   */
  double concurrentStepsPerSecond(int runs, int steps) throws SQLException, InterruptedException {
    List<Connection> connections = new ArrayList<>();
    try {
      boolean shared = db.floorSharesOneConnection();
      for (int i = 0; i < (shared ? 1 : runs); i++) {
        connections.add(db.floorConnection());
      }
      ReentrantLock writer = new ReentrantLock();
      CountDownLatch go = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      int batch = RUNS.incrementAndGet();
      for (int r = 0; r < runs; r++) {
        Connection c = connections.get(shared ? 0 : r);
        String runId = "floor-" + batch + "-" + r;
        threads.add(
            Thread.ofPlatform()
                .name("floor-" + r)
                .start(() -> oneRun(c, shared ? writer : null, runId, steps, go, failure)));
      }
      long start = System.nanoTime();
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Throwable t = failure.get();
      if (t != null) {
        throw new IllegalStateException("a floor run failed: " + t, t);
      }
      return runs * (double) steps / seconds;
    } finally {
      for (Connection c : connections) {
        c.close();
      }
    }
  }

  private PreparedStatement prepare(Connection c, @Nullable ReentrantLock writer)
      throws SQLException {
    if (writer == null) {
      return c.prepareStatement(insertSql());
    }
    writer.lock();
    try {
      return c.prepareStatement(insertSql());
    } finally {
      writer.unlock();
    }
  }

  private void oneRun(
      Connection c,
      @Nullable ReentrantLock writer,
      String runId,
      int steps,
      CountDownLatch go,
      AtomicReference<Throwable> failure) {
    // Each run prepares its statement before the start, so the timed loop is INSERT + COMMIT only.
    try (PreparedStatement ps = prepare(c, writer)) {
      go.await();
      for (int seq = 1; seq <= steps; seq++) {
        if (writer == null) {
          insert(ps, runId, seq);
          continue;
        }
        writer.lock();
        try {
          insert(ps, runId, seq);
        } finally {
          writer.unlock();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure.compareAndSet(null, e);
    } catch (SQLException | RuntimeException e) {
      failure.compareAndSet(null, e);
    }
  }
}
