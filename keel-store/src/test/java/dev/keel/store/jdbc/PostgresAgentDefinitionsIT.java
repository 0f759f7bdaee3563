package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.run.FaultInjector;
import dev.keel.store.AgentDefinitions;
import dev.keel.testkit.store.AgentDefinitionsContract;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The agent definitions contract on a real PostgreSQL ({@code PG_URL}) in a fresh schema, plus the
 * grants: the application role may read and insert definitions, never change or delete them.
 */
class PostgresAgentDefinitionsIT extends AgentDefinitionsContract {
  private static final String BASE =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
  private static final String SCHEMA =
      "keel_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private static String url = "";
  private static SideDb db;

  @BeforeAll
  static void open() throws SQLException {
    try (Connection c = DriverManager.getConnection(BASE);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + SCHEMA);
    }
    url = BASE + (BASE.contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA;
    new PostgresRunStore(PostgresConfig.of(url), FaultInjector.NONE).close();
    db = SideDb.open(url, "", "", 4);
  }

  @AfterAll
  static void close() throws SQLException {
    db.close();
    try (Connection c = DriverManager.getConnection(BASE);
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  @Override
  protected AgentDefinitions newDefinitions() {
    return new JdbcAgentDefinitions(db, InstantSource.system());
  }

  @Test
  void theApplicationRoleMayReadAndInsertButNeverChangeDefinitions() throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT has_table_privilege('keel_app', 'agent_definitions', 'SELECT'),"
                    + " has_table_privilege('keel_app', 'agent_definitions', 'INSERT'),"
                    + " has_table_privilege('keel_app', 'agent_definitions', 'UPDATE'),"
                    + " has_table_privilege('keel_app', 'agent_definitions', 'DELETE')")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBoolean(1)).isTrue();
      assertThat(rs.getBoolean(2)).isTrue();
      assertThat(rs.getBoolean(3)).isFalse();
      assertThat(rs.getBoolean(4)).isFalse();
    }
  }
}
