package dev.keel.store.jdbc;

import dev.keel.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Writes the requests of many callers in one transaction and one durable commit.
 *
 * <p>Callers {@link #submit} a write and block (on their virtual thread) until it is committed. A
 * single committer thread takes whatever is queued, up to {@code maxBatch}, and runs each request
 * inside its own SAVEPOINT: a request that fails (a fenced append, a refused signal, a fault) rolls
 * back to its savepoint and fails only its own caller. Then one COMMIT makes every other request
 * durable at once and their callers return. When only one request is queued it is written at once,
 * without waiting for company, so one run alone pays no added latency.
 *
 * <p>If the COMMIT itself fails, the outcome of every request in the batch is unknown and each
 * caller gets a {@link StoreException} saying so.
 */
final class GroupCommitter implements AutoCloseable {

  /** A write run inside the committer's transaction. */
  @FunctionalInterface
  interface Op<T> {
    /** Does the write; throw to roll it back and fail only this request. */
    T run(Tx tx) throws SQLException;
  }

  /** Where the committer gets its connection for a batch. */
  interface ConnectionSource {
    /** A connection with auto-commit off, for one batch. */
    Connection acquire() throws SQLException;

    /** Gives the connection back; {@code broken} if the batch failed at the connection. */
    void release(Connection c, boolean broken);
  }

  /** The transaction a request runs in, with actions to run once it has committed. */
  static final class Tx {
    private final Connection connection;
    private final List<Runnable> afterCommit = new ArrayList<>();

    Tx(Connection connection) {
      this.connection = connection;
    }

    /** The connection of the batch's transaction. */
    Connection connection() {
      return connection;
    }

    /** Runs {@code action} after the commit, only if this request's writes committed. */
    void afterCommit(Runnable action) {
      afterCommit.add(action);
    }

    /** Runs the after-commit actions; call once the transaction has committed. */
    void committed() {
      for (Runnable action : afterCommit) {
        action.run();
      }
    }
  }

  private static final class Request<T> {
    final String what;
    final Op<T> op;
    final CountDownLatch done = new CountDownLatch(1);
    @Nullable T result;
    @Nullable Throwable failure;
    @Nullable Tx tx;

    Request(String what, Op<T> op) {
      this.what = what;
      this.op = op;
    }
  }

  private final String name;
  private final ConnectionSource source;
  private final int maxBatch;
  private final LinkedBlockingQueue<Request<?>> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean open = true;

  /** Starts a committer thread named {@code name}. */
  GroupCommitter(String name, ConnectionSource source, int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
    }
    this.name = name;
    this.source = source;
    this.maxBatch = maxBatch;
    // A platform thread: the JDBC drivers block in native code (SQLite) and pin carriers.
    this.thread = Thread.ofPlatform().name(name).daemon(true).start(this::loop);
  }

  /**
   * Queues {@code op}, waits until its batch has committed and returns its result.
   *
   * @param what what the write does, for error messages
   * @throws StoreException if the store failed or was closed; the outcome may be unknown
   */
  <T> T submit(String what, Op<T> op) {
    Request<T> r = new Request<>(what, op);
    if (!open) {
      throw new StoreException(what + " failed: the store is closed", false);
    }
    queue.add(r);
    try {
      r.done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(
          what + " was interrupted while waiting for its commit; it may still commit", true, e);
    }
    Throwable failure = r.failure;
    if (failure != null) {
      switch (failure) {
        case RuntimeException re -> throw re;
        case Error err -> throw err;
        case SQLException se -> throw SqlErrors.wrap(what, se);
        default -> throw new StoreException(what + " failed: " + failure, false, failure);
      }
    }
    return r.result;
  }

  private void loop() {
    List<Request<?>> batch = new ArrayList<>();
    while (open || !queue.isEmpty()) {
      Request<?> first;
      try {
        first = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        break;
      }
      if (first == null) {
        continue;
      }
      batch.add(first);
      queue.drainTo(batch, maxBatch - 1);
      execute(batch);
      batch.clear();
    }
    List<Request<?>> left = new ArrayList<>();
    queue.drainTo(left);
    for (Request<?> r : left) {
      r.failure = new StoreException(r.what + " failed: the store was closed", false);
      r.done.countDown();
    }
  }

  private void execute(List<Request<?>> batch) {
    Connection c;
    try {
      c = source.acquire();
    } catch (SQLException e) {
      for (Request<?> r : batch) {
        r.failure = SqlErrors.wrap(r.what + " could not get a connection (" + name + ")", e);
      }
      finish(batch);
      return;
    } catch (RuntimeException e) {
      for (Request<?> r : batch) {
        r.failure = e;
      }
      finish(batch);
      return;
    }
    boolean broken = false;
    try {
      if (batch.size() == 1) {
        runAlone(c, batch.getFirst());
      } else {
        for (Request<?> r : batch) {
          runInSavepoint(c, r);
        }
      }
      if (batch.stream().anyMatch(r -> r.failure == null)) {
        c.commit();
      } else {
        c.rollback();
      }
    } catch (SQLException e) {
      broken = true;
      rollbackQuietly(c);
      for (Request<?> r : batch) {
        if (r.failure == null) {
          r.failure =
              new StoreException(
                  r.what
                      + " failed at the commit of a batch of "
                      + batch.size()
                      + " writes ("
                      + name
                      + "); it may or may not have committed: "
                      + e.getMessage(),
                  SqlErrors.retryable(e),
                  e);
        }
      }
    } finally {
      source.release(c, broken);
    }
    finish(batch);
  }

  private static <T> void runAlone(Connection c, Request<T> r) throws SQLException {
    Tx tx = new Tx(c);
    try {
      r.result = r.op.run(tx);
      r.tx = tx;
    } catch (Throwable t) {
      r.failure = t;
      c.rollback();
    }
  }

  private static <T> void runInSavepoint(Connection c, Request<T> r) throws SQLException {
    Savepoint sp = c.setSavepoint();
    Tx tx = new Tx(c);
    try {
      r.result = r.op.run(tx);
      r.tx = tx;
    } catch (Throwable t) {
      r.failure = t;
      c.rollback(sp);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is given back as broken; the commit's own failure is what callers see.
    }
  }

  private static void finish(List<Request<?>> batch) {
    for (Request<?> r : batch) {
      Tx tx = r.tx;
      if (r.failure == null && tx != null) {
        tx.committed();
      }
      r.done.countDown();
    }
  }

  /** Stops taking requests, finishes the queued ones and stops the thread. */
  @Override
  public void close() {
    open = false;
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Request<?>> left = new ArrayList<>();
    queue.drainTo(left);
    for (Request<?> r : left) {
      r.failure = new StoreException(r.what + " failed: the store was closed", false);
      r.done.countDown();
    }
  }
}
