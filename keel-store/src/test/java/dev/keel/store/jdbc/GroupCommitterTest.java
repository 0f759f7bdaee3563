package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.store.StoreException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The committer on a scripted connection: a failure reruns the batch in savepoints, which isolate
 * it; a failed commit fails all.
 */
class GroupCommitterTest {
  /** What the fake connection was asked to do, in order. */
  private final List<String> calls = new CopyOnWriteArrayList<>();

  private final AtomicBoolean commitFails = new AtomicBoolean();

  private Connection connection() {
    return (Connection)
        Proxy.newProxyInstance(
            getClass().getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "setSavepoint" -> savepoint();
                  case "rollback" -> record(args == null ? "rollback" : "rollback to savepoint");
                  case "commit" -> commit();
                  default -> null;
                });
  }

  private Savepoint savepoint() {
    calls.add("savepoint");
    return (Savepoint)
        Proxy.newProxyInstance(
            getClass().getClassLoader(), new Class<?>[] {Savepoint.class}, (p, m, a) -> null);
  }

  private @Nullable Object record(String call) {
    calls.add(call);
    return null;
  }

  private @Nullable Object commit() throws SQLException {
    calls.add("commit");
    if (commitFails.get()) {
      throw new SQLException("disk I/O error", "58030");
    }
    return null;
  }

  private GroupCommitter committer(CountDownLatch gate) {
    Connection c = connection();
    return new GroupCommitter(
        "test-committer",
        new GroupCommitter.ConnectionSource() {
          @Override
          public Connection acquire() {
            try {
              gate.await(); // hold the first batch until every request is queued
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return c;
          }

          @Override
          public void release(Connection conn, boolean broken) {}
        },
        64);
  }

  @Test
  void aLoneWriteCommitsAtOnceWithoutASavepoint() {
    CountDownLatch open = new CountDownLatch(0);
    try (GroupCommitter gc = committer(open)) {
      Integer result = gc.submit("one", tx -> 42);
      assertThat(result).isEqualTo(42);
    }
    assertThat(calls).containsExactly("commit");
  }

  @Test
  void aLoneWriteRunsOnTheCallersOwnThread() throws Exception {
    CountDownLatch open = new CountDownLatch(0);
    try (GroupCommitter gc = committer(open);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Boolean> sameThread =
          ex.submit(
              () -> {
                Thread caller = Thread.currentThread();
                return gc.submit("run_a", "one", tx -> Thread.currentThread() == caller);
              });
      assertThat(sameThread.get()).isTrue();
    }
  }

  @Test
  void queuedWritesRunInRouteOrderInOneBatch() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<String> order = new CopyOnWriteArrayList<>();
    List<Future<String>> results = new ArrayList<>();
    try (GroupCommitter gc = committer(gate);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      results.add(ex.submit(() -> gc.submit("run_0", "blocker", tx -> "run_0")));
      Thread.sleep(100); // the blocker holds the batch lock, waiting in acquire()
      for (String route : List.of("run_c", "run_a", "run_b")) {
        results.add(
            ex.submit(
                () ->
                    gc.submit(
                        route,
                        "write " + route,
                        tx -> {
                          order.add(route);
                          return route;
                        })));
        Thread.sleep(20);
      }
      Thread.sleep(200);
      gate.countDown();
      for (Future<String> f : results) {
        assertThat(f.get()).startsWith("run_");
      }
    }
    assertThat(order).containsExactly("run_a", "run_b", "run_c");
    assertThat(calls.stream().filter("commit"::equals).count()).isEqualTo(2);
  }

  @Test
  void aBatchWithoutFailuresTakesNoSavepoint() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    try (GroupCommitter gc = committer(gate);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      results.add(ex.submit(() -> gc.submit("blocker", tx -> 0)));
      Thread.sleep(100); // the committer now waits in acquire() with the blocker
      for (int i = 1; i <= 5; i++) {
        int n = i;
        results.add(ex.submit(() -> gc.submit("write " + n, tx -> n)));
      }
      Thread.sleep(200);
      gate.countDown();
      for (int i = 0; i < results.size(); i++) {
        assertThat(results.get(i).get()).isEqualTo(i);
      }
    }
    assertThat(calls).doesNotContain("savepoint", "rollback", "rollback to savepoint");
    assertThat(calls.stream().filter("commit"::equals).count()).isEqualTo(2);
  }

  @Test
  void aFailingWriteRollsTheBatchBackAndTheOthersCommitInSavepoints() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    List<String> afterCommit = new CopyOnWriteArrayList<>();
    try (GroupCommitter gc = committer(gate);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      results.add(ex.submit(() -> gc.submit("blocker", tx -> 0)));
      Thread.sleep(100); // the committer now waits in acquire() with the blocker
      for (int i = 1; i <= 5; i++) {
        int n = i;
        results.add(
            ex.submit(
                () ->
                    gc.submit(
                        "w" + n,
                        "write " + n,
                        tx -> {
                          attempts.add(n);
                          tx.afterCommit(() -> afterCommit.add("w" + n));
                          if (n == 3) {
                            throw new IllegalStateException("fenced");
                          }
                          return n;
                        })));
      }
      Thread.sleep(200);
      gate.countDown();
      for (int i = 0; i < results.size(); i++) {
        Future<Integer> f = results.get(i);
        if (i == 3) {
          assertThatThrownBy(f::get).hasRootCauseMessage("fenced");
        } else {
          assertThat(f.get()).isEqualTo(i);
        }
      }
    }
    // The first attempt ran w1, w2 and the failing w3 without savepoints; after the rollback the
    // others ran again, each in a savepoint, and the failing one did not run again.
    assertThat(attempts).containsExactly(1, 2, 3, 1, 2, 4, 5);
    assertThat(calls).containsSubsequence("rollback", "savepoint", "savepoint", "commit");
    assertThat(calls.stream().filter("savepoint"::equals).count()).isEqualTo(4);
    assertThat(calls).doesNotContain("rollback to savepoint");
    assertThat(calls.stream().filter("commit"::equals).count()).isEqualTo(2);
    // After-commit actions of the rolled-back attempt and of the failed write never run.
    assertThat(afterCommit).containsExactly("w1", "w2", "w4", "w5");
  }

  @Test
  void aWriteFailingOnlyInItsSavepointFailsAlone() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    AtomicBoolean firstAttemptOfW2 = new AtomicBoolean(true);
    try (GroupCommitter gc = committer(gate);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      results.add(ex.submit(() -> gc.submit("blocker", tx -> 0)));
      Thread.sleep(100); // the committer now waits in acquire() with the blocker
      for (int i = 1; i <= 3; i++) {
        int n = i;
        results.add(
            ex.submit(
                () ->
                    gc.submit(
                        "w" + n,
                        "write " + n,
                        tx -> {
                          // w3 fails at once; w2 fails only when run again in its savepoint.
                          if (n == 3 || (n == 2 && !firstAttemptOfW2.getAndSet(false))) {
                            throw new IllegalStateException("fenced " + n);
                          }
                          return n;
                        })));
      }
      Thread.sleep(200);
      gate.countDown();
      assertThat(results.get(1).get()).isEqualTo(1);
      assertThatThrownBy(results.get(2)::get).hasRootCauseMessage("fenced 2");
      assertThatThrownBy(results.get(3)::get).hasRootCauseMessage("fenced 3");
    }
    assertThat(calls).contains("rollback to savepoint");
  }

  @Test
  void aFailedCommitFailsEveryWriteOfTheBatchAsUnknown() throws Exception {
    commitFails.set(true);
    CountDownLatch gate = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    try (GroupCommitter gc = committer(gate);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 4; i++) {
        int n = i;
        results.add(ex.submit(() -> gc.submit("write " + n, tx -> n)));
      }
      Thread.sleep(200);
      gate.countDown();
      for (Future<Integer> f : results) {
        assertThatThrownBy(f::get)
            .hasCauseInstanceOf(StoreException.class)
            .hasMessageContaining("may or may not have committed");
      }
    }
  }
}
