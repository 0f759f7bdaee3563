package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.run.CrashPoint;
import dev.keel.run.FaultInjector;
import dev.keel.store.NewRun;
import dev.keel.store.RunStore;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.store.RunStoreContract;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The store contract on a real PostgreSQL ({@code PG_URL}, default the local {@code test} database
 * as {@code postgres}); every store gets a fresh schema, dropped afterwards.
 */
class PostgresRunStoreIT extends RunStoreContract {
  private static final String BASE =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
  private static final List<String> SCHEMAS = new ArrayList<>();

  private static @Nullable String shared;

  /** A store on this class's schema, emptied first; the schema is migrated once. */
  @Override
  protected RunStore newStore() {
    synchronized (PostgresRunStoreIT.class) {
      if (shared == null) {
        shared = freshSchema();
      } else {
        try (Connection c = DriverManager.getConnection(shared);
            Statement s = c.createStatement()) {
          s.execute(
              "TRUNCATE run_events, run_checkpoints, run_signals, approvals, tool_invocations,"
                  + " runs");
        } catch (SQLException e) {
          throw new IllegalStateException("cannot empty " + shared, e);
        }
      }
      return new PostgresRunStore(PostgresConfig.of(shared), FaultInjector.NONE);
    }
  }

  private static synchronized String freshSchema() {
    String schema = "keel_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(BASE);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + schema + " at " + BASE, e);
    }
    SCHEMAS.add(schema);
    return BASE + (BASE.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  @AfterAll
  static synchronized void dropSchemas() throws SQLException {
    try (Connection c = DriverManager.getConnection(BASE);
        Statement s = c.createStatement()) {
      for (String schema : SCHEMAS) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
    SCHEMAS.clear();
    shared = null;
  }

  @Test
  void theFenceFindsTheRunByItsIdHoweverManyRunsTheWorkerLeases() throws Exception {
    // The plan PostgreSQL caches for the life of a connection (a generic plan) must reach the run
    // through the primary key, not through the lease_owner index: that one leads to every run the
    // worker leases, and the fence then filters them all on each append (decision 0060).
    String url = freshSchema();
    try (RunStore s = new PostgresRunStore(PostgresConfig.of(url), FaultInjector.NONE)) {
      for (int i = 0; i < 300; i++) {
        s.create(newRun(newId(), TENANT, Optional.empty()));
      }
      // statistics gathered while no run was leased, as autovacuum may well do
      try (Connection c = DriverManager.getConnection(url);
          Statement st = c.createStatement()) {
        st.execute("ANALYZE runs");
      }
      assertThat(s.claim("w1", LONG, 300)).hasSize(300);
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      st.execute("SET plan_cache_mode = force_generic_plan");
      st.execute(
          "PREPARE fence(text, text, bigint) AS SELECT 1 FROM runs WHERE runs.id = $1 AND "
              + Dialect.POSTGRES.leasedTo("runs.lease_owner").replace("?", "$2")
              + " AND runs.lease_epoch = $3");
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs = st.executeQuery("EXPLAIN EXECUTE fence('run_x', 'w1', 1)")) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      assertThat(plan.toString()).contains("runs_pkey").doesNotContain("runs_lease_owner");
    }
  }

  @Test
  void aCrashBetweenTheRunRowAndItsFirstEventLeavesNothing() {
    FaultInjector crash =
        (point, runId) -> {
          if (point == CrashPoint.B1_RUN_ROW_CREATED) {
            throw new IllegalStateException("crash at " + point);
          }
        };
    NewRun n = newRun(newId(), TENANT, Optional.of("k"));
    try (RunStore s = new PostgresRunStore(PostgresConfig.of(freshSchema()), crash)) {
      assertThatThrownBy(() -> s.create(n)).hasMessageContaining("B1_RUN_ROW_CREATED");
      assertThat(s.rows()).isEmpty();
      assertThat(s.events(n.runId(), 0, 10)).isEmpty();
    }
  }

  @Test
  void aSignalInOneProcessWakesAWorkerOfAnother() throws Exception {
    String url = freshSchema();
    try (RunStore a = new PostgresRunStore(PostgresConfig.of(url), FaultInjector.NONE);
        RunStore b = new PostgresRunStore(PostgresConfig.of(url), FaultInjector.NONE)) {
      NewRun n = newRun(newId(), TENANT, Optional.empty());
      a.create(n);
      Thread.sleep(300); // let b's listener settle
      long[] waited = new long[1];
      Thread waiter =
          Thread.ofVirtual()
              .start(
                  () -> {
                    long t0 = System.nanoTime();
                    try {
                      b.awaitWork(Duration.ofSeconds(20));
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    waited[0] = System.nanoTime() - t0;
                  });
      Thread.sleep(200);
      a.signal(TENANT, n.runId(), new SignalPayload.Pause("alice"));
      waiter.join(Duration.ofSeconds(10));
      assertThat(waiter.isAlive()).isFalse();
      assertThat(Duration.ofNanos(waited[0])).isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void aDatabaseMigratedByANewerKeelIsRefused() throws Exception {
    String url = freshSchema();
    new PostgresRunStore(PostgresConfig.of(url), FaultInjector.NONE).close();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
              + " checksum, installed_by, execution_time, success)"
              + " VALUES (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 0,"
              + " 'test', 1, true)");
    }
    assertThatThrownBy(() -> new PostgresRunStore(PostgresConfig.of(url), FaultInjector.NONE))
        .hasMessageContaining("schema version 99")
        .hasMessageContaining("newer Keel");
  }
}
