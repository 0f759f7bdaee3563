package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.run.CrashPoint;
import dev.keel.run.FaultInjector;
import dev.keel.store.NewRun;
import dev.keel.store.RunStore;
import dev.keel.testkit.store.RunStoreContract;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
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

  @Override
  protected RunStore newStore() {
    return new PostgresRunStore(PostgresConfig.of(freshSchema()), FaultInjector.NONE);
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
