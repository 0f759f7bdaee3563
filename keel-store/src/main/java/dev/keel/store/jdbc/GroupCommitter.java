package dev.keel.store.jdbc;

import dev.keel.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * Writes the requests of many callers in one transaction and one durable commit.
 *
 * <p>Callers {@link #submit} a write and block (on their virtual thread) until it is committed. A
 * single committer thread takes whatever is queued, up to {@code maxBatch}, and runs the requests
 * one after another in one transaction, without savepoints. If a request fails (a fenced append, a
 * refused signal, a fault), the attempt is rolled back and the other requests run again, each in
 * its own SAVEPOINT, so the failing request fails only its own caller. Then one COMMIT makes every
 * other request durable at once and their callers return. When nothing is queued and no batch is
 * running, a request runs at once on its caller's own thread (a batch of one, no savepoint, no
 * hand-off), so one run alone pays no added latency; requests that arrive meanwhile queue up and
 * become the next batch. A batch runs its requests in the order of their routes (run ids), the
 * order in which {@code renew} locks run rows on PostgreSQL, so the two never deadlock.
 *
 * <p>If the COMMIT itself fails, the outcome of every request in the batch is unknown and each
 * caller gets a {@link StoreException} saying so.
 */
final class GroupCommitter implements AutoCloseable {

  /**
   * A write run inside the committer's transaction. It may run twice: when another request of its
   * batch fails, the batch is rolled back and run again (see {@link #runOptimistically}). So an op
   * does database work only, and anything else through its {@link Tx} ({@link Tx#afterCommit},
   * {@link Tx#publish}), which belongs to one attempt.
   */
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

    /**
     * Publishes, inside the batch's transaction just before it commits, the distinct payloads its
     * committed requests asked for (see {@link Tx#publish}); nothing by default.
     */
    default void publish(Connection c, Set<String> payloads) throws SQLException {}

    /**
     * Commits the batch's transaction, durably; {@link #release} follows. By default {@code
     * c.commit()}.
     */
    default void commit(Connection c) throws SQLException {
      c.commit();
    }

    /**
     * Told that the batch's transaction on {@code c} was rolled back and will be attempted again,
     * so per-transaction state (such as a tenant scope set with {@code set_config(..., true)}) is
     * gone; nothing by default.
     */
    default void rolledBack(Connection c) {}

    /** Prepared statements kept across batches for this source's one connection, if any. */
    default @Nullable Map<String, PreparedStatement> statementCache() {
      return null;
    }
  }

  /** The transaction a request runs in, with actions to run once it has committed. */
  static final class Tx {
    private final Connection connection;
    private final @Nullable Map<String, PreparedStatement> cache;
    private final @Nullable Map<String, PreparedStatement> batch;
    private final List<PreparedStatement> opened = new ArrayList<>();
    private final List<Runnable> afterCommit = new ArrayList<>();
    private final Set<String> published = new LinkedHashSet<>();

    /**
     * A transaction on {@code connection}; with a {@code cache}, prepared statements are kept for
     * the life of the connection (the SQLite writer), otherwise closed when the batch ends.
     */
    Tx(Connection connection, @Nullable Map<String, PreparedStatement> cache) {
      this(connection, cache, null);
    }

    /** As above, sharing {@code batch}'s statements with the other requests of the batch. */
    Tx(
        Connection connection,
        @Nullable Map<String, PreparedStatement> cache,
        @Nullable Map<String, PreparedStatement> batch) {
      this.connection = connection;
      this.cache = cache;
      this.batch = batch;
    }

    /**
     * A statement for {@code sql}; the transaction owns it, callers never close it. Without a
     * connection-long cache, statements are still shared by the requests of one batch: PostgreSQL's
     * driver parses the SQL again whenever a statement for it is already open on the connection.
     */
    PreparedStatement prepare(String sql) throws SQLException {
      Map<String, PreparedStatement> kept = cache != null ? cache : batch;
      if (kept == null) {
        PreparedStatement ps = connection.prepareStatement(sql);
        opened.add(ps);
        return ps;
      }
      PreparedStatement ps = kept.get(sql);
      if (ps == null) {
        ps = connection.prepareStatement(sql);
        kept.put(sql, ps);
      } else {
        ps.clearParameters();
      }
      return ps;
    }

    /** Closes the statements this transaction opened outside the cache. */
    void closeStatements() {
      for (PreparedStatement ps : opened) {
        try {
          ps.close();
        } catch (SQLException ignored) {
          // The connection is being given back; a statement that fails to close is gone anyway.
        }
      }
      opened.clear();
    }

    /** The connection of the batch's transaction. */
    Connection connection() {
      return connection;
    }

    /**
     * Asks that other processes be told, in this transaction, that work is claimable ({@code
     * payload}); the committer publishes each distinct payload of a batch once.
     */
    void publish(String payload) {
      published.add(payload);
    }

    /** The payloads this request asked to publish. */
    Set<String> published() {
      return published;
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
    final @Nullable String route;
    final String what;
    final Op<T> op;
    final CountDownLatch done = new CountDownLatch(1);
    @Nullable T result;
    @Nullable Throwable failure;
    @Nullable Tx tx;

    Request(@Nullable String route, String what, Op<T> op) {
      this.route = route;
      this.what = what;
      this.op = op;
    }
  }

  private static final Comparator<Request<?>> ROUTE_ORDER =
      Comparator.comparing(r -> r.route, Comparator.nullsFirst(Comparator.naturalOrder()));

  private final String name;
  private final ConnectionSource source;
  private final int maxBatch;
  private final LinkedBlockingQueue<Request<?>> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  // Queued by close() so the committer notices at once instead of at its next poll.
  private final Request<Void> stop = new Request<>(null, "stop", tx -> null);
  // Held while a batch runs, by the committer thread or by a caller writing alone (see submit).
  // Fair, so a committer waiting with a queued batch goes before the next caller that would write
  // alone: tryLock(0, unit) honours the queue.
  private final ReentrantLock batchLock = new ReentrantLock(true);
  private volatile boolean open = true;
  private final LongAdder batches = new LongAdder();
  private final LongAdder requests = new LongAdder();
  private final LongAdder commitNanos = new LongAdder();
  private final LongAdder batchNanos = new LongAdder();
  private final LongAdder retries = new LongAdder();

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
    return submit(null, what, op);
  }

  /**
   * Like {@link #submit(String, Op)}; {@code route} (the run id a write locks, or null) orders the
   * requests of a batch, so batches lock run rows in one global order, the order of {@code renew}.
   *
   * <p>When nothing is queued and no batch is running, the write runs at once on the caller's own
   * thread, as a batch of one: a lone run pays no hand-off to the committer thread and back. Writes
   * that arrive meanwhile queue up and the committer takes them as one batch.
   */
  <T> T submit(@Nullable String route, String what, Op<T> op) {
    Request<T> r = new Request<>(route, what, op);
    if (!open) {
      throw new StoreException(what + " failed: the store is closed", false);
    }
    if (queue.isEmpty() && tryLockNow()) {
      long t0 = System.nanoTime();
      try {
        runBatch(new ArrayList<>(List.of(r)));
      } finally {
        batchLock.unlock();
      }
      batchNanos.add(System.nanoTime() - t0);
      batches.increment();
      requests.increment();
    } else {
      queue.add(r);
    }
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

  private boolean tryLockNow() {
    try {
      return batchLock.tryLock(0, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs {@code batch}, failing its callers if the committer itself breaks. */
  private void runBatch(List<Request<?>> batch) {
    try {
      execute(batch);
    } catch (RuntimeException | Error e) {
      // A bug in the committer itself: fail the batch's callers rather than leave them waiting.
      for (Request<?> r : batch) {
        if (r.done.getCount() > 0) {
          r.failure =
              new StoreException(
                  r.what + " failed in " + name + "; it may have committed", false, e);
          r.done.countDown();
        }
      }
    }
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
      if (first == null || first == stop) {
        continue;
      }
      batch.add(first);
      batchLock.lock();
      long t0 = System.nanoTime();
      try {
        queue.drainTo(batch, maxBatch - 1);
        batch.remove(stop);
        // One lock order for every batch (and for renew): by run id.
        batch.sort(ROUTE_ORDER);
        runBatch(batch);
      } finally {
        batchLock.unlock();
      }
      batchNanos.add(System.nanoTime() - t0);
      batches.increment();
      requests.add(batch.size());
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
    Map<String, PreparedStatement> shared = null;
    try {
      Map<String, PreparedStatement> cache = source.statementCache();
      if (cache == null) {
        shared = new HashMap<>();
      }
      if (batch.size() == 1) {
        runAlone(c, batch.getFirst(), cache, shared);
      } else if (!runOptimistically(c, batch, cache, shared)) {
        // One request failed: roll the whole attempt back and run the others again, each in its
        // own savepoint, so that only the failing request fails.
        c.rollback();
        source.rolledBack(c);
        retries.increment();
        for (Request<?> r : batch) {
          Tx tx = r.tx;
          if (tx != null) {
            tx.closeStatements();
          }
          if (r.failure == null) {
            r.tx = null;
            r.result = null;
            runInSavepoint(c, r, cache, shared);
          } else {
            r.tx = null;
          }
        }
      }
      Set<String> payloads = new LinkedHashSet<>();
      for (Request<?> r : batch) {
        Tx tx = r.tx;
        if (r.failure == null && tx != null) {
          payloads.addAll(tx.published);
        }
      }
      if (!payloads.isEmpty()) {
        source.publish(c, payloads);
      }
      if (batch.stream().anyMatch(r -> r.failure == null)) {
        commit(c);
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
      for (Request<?> r : batch) {
        Tx tx = r.tx;
        if (tx != null) {
          tx.closeStatements();
        }
      }
      if (shared != null) {
        for (PreparedStatement ps : shared.values()) {
          try {
            ps.close();
          } catch (SQLException ignored) {
            // The connection is being given back; a statement that fails to close is gone anyway.
          }
        }
      }
      source.release(c, broken);
    }
    finish(batch);
  }

  /** The COMMIT of a batch (keel-bench counts and times the calls of this method with JFR). */
  private void commit(Connection c) throws SQLException {
    long t0 = System.nanoTime();
    source.commit(c);
    commitNanos.add(System.nanoTime() - t0);
  }

  private static <T> void runAlone(
      Connection c,
      Request<T> r,
      @Nullable Map<String, PreparedStatement> cache,
      @Nullable Map<String, PreparedStatement> shared)
      throws SQLException {
    Tx tx = new Tx(c, cache, shared);
    r.tx = tx;
    try {
      r.result = r.op.run(tx);
    } catch (Throwable t) {
      r.failure = t;
      c.rollback();
    }
  }

  /**
   * Runs every request of {@code batch} in one transaction without savepoints (a savepoint costs a
   * statement, and on SQLite a copy of every page the request touches). Stops at the first request
   * that fails and returns false: its failure is kept, and the caller rolls the attempt back and
   * runs the other requests again, each in a savepoint. Requests are pure database work, so running
   * one again after a rollback is safe; its first attempt's after-commit actions and publications
   * are dropped with its {@link Tx}.
   */
  private static boolean runOptimistically(
      Connection c,
      List<Request<?>> batch,
      @Nullable Map<String, PreparedStatement> cache,
      @Nullable Map<String, PreparedStatement> shared) {
    for (Request<?> r : batch) {
      if (!runUnprotected(r, new Tx(c, cache, shared))) {
        return false;
      }
    }
    return true;
  }

  private static <T> boolean runUnprotected(Request<T> r, Tx tx) {
    r.tx = tx;
    try {
      r.result = r.op.run(tx);
      return true;
    } catch (Throwable t) {
      r.failure = t;
      return false;
    }
  }

  private static <T> void runInSavepoint(
      Connection c,
      Request<T> r,
      @Nullable Map<String, PreparedStatement> cache,
      @Nullable Map<String, PreparedStatement> shared)
      throws SQLException {
    Savepoint sp = c.setSavepoint();
    Tx tx = new Tx(c, cache, shared);
    r.tx = tx;
    try {
      r.result = r.op.run(tx);
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

  /**
   * Batches, requests, nanos in commits, nanos in whole batches, and batches run again with
   * savepoints after a request failed, so far.
   */
  long[] stats() {
    return new long[] {
      batches.sum(), requests.sum(), commitNanos.sum(), batchNanos.sum(), retries.sum()
    };
  }

  /** Stops taking requests and wakes the committer, without waiting for it. */
  void stopSoon() {
    open = false;
    queue.add(stop);
  }

  /** Stops taking requests, finishes the queued ones and stops the thread. */
  @Override
  public void close() {
    stopSoon();
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
