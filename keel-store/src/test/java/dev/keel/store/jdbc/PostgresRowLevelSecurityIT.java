package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.NewRun;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.StoreException;
import dev.keel.store.TenantScope;
import dev.keel.testkit.store.RunStoreContract;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Row-level security on a real PostgreSQL (docs/decisions/0043): the whole store contract passes
 * with the store working as a login role that only has the {@code keel_app} grants, and that role,
 * on raw JDBC, sees no other tenant's runs, events or approvals even with queries that omit the
 * tenant filter, cannot update or delete events, and cannot lift the wall.
 *
 * <p>The tables are migrated by the superuser {@code postgres} (the owner); the application login
 * is created per class and dropped afterwards. Superusers bypass RLS, so every check of the wall
 * connects as the application login.
 */
class PostgresRowLevelSecurityIT extends RunStoreContract {
  private static final String OWNER_URL =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  /** The database without credentials: the store adds the owner's and the application role's. */
  private static final String DATABASE = OWNER_URL.split("\\?", 2)[0];

  private static final String OWNER = param(OWNER_URL, "user", "postgres");
  private static final String OWNER_PASSWORD = param(OWNER_URL, "password", "");
  private static final String APP =
      "keel_it_app_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  private static final List<String> SCHEMAS = new ArrayList<>();
  private static @Nullable String shared;

  private static String param(String url, String name, String fallback) {
    String[] parts = url.split("\\?", 2);
    if (parts.length == 2) {
      for (String kv : parts[1].split("&")) {
        if (kv.startsWith(name + "=")) {
          return kv.substring(name.length() + 1);
        }
      }
    }
    return fallback;
  }

  /** A fresh schema migrated by the owner, and the application login (once per class). */
  private static synchronized String freshSchema() {
    String schema = "keel_rls_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = owner(null);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
      SCHEMAS.add(schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + schema, e);
    }
    String url = DATABASE + "?currentSchema=" + schema;
    StoreMigrations.migrate(url, OWNER, OWNER_PASSWORD);
    try (Connection c = owner(null);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT count(*) FROM pg_roles WHERE rolname = '" + APP + "'")) {
      rs.next();
      if (rs.getInt(1) == 0) {
        // A login with nothing of its own: all it may do comes from keel_app.
        s.execute("CREATE ROLE " + APP + " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE");
        s.execute("GRANT keel_app TO " + APP);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the application login " + APP, e);
    }
    return url;
  }

  private static Connection owner(@Nullable String schema) throws SQLException {
    return DriverManager.getConnection(
        schema == null ? OWNER_URL : DATABASE + "?currentSchema=" + schema,
        props(OWNER, OWNER_PASSWORD));
  }

  private static Properties props(String user, String password) {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (!password.isEmpty()) {
      p.setProperty("password", password);
    }
    return p;
  }

  private static PostgresConfig appConfig(String url) {
    return PostgresConfig.of(url)
        .withCredentials(OWNER, OWNER_PASSWORD)
        .withApplicationRole(APP, "");
  }

  /** Raw JDBC as the application login, auto-commit off. */
  private static Connection asApp() throws SQLException {
    Connection c = DriverManager.getConnection(shared(), props(APP, ""));
    c.setAutoCommit(false);
    return c;
  }

  private static synchronized String shared() {
    if (shared == null) {
      shared = freshSchema();
    }
    return shared;
  }

  @Override
  protected RunStore newStore() {
    String url = shared();
    try (Connection c = DriverManager.getConnection(url, props(OWNER, OWNER_PASSWORD));
        Statement s = c.createStatement()) {
      s.execute(
          "TRUNCATE run_events, run_checkpoints, run_signals, approvals, tool_invocations, runs");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot empty " + url, e);
    }
    PostgresRunStore s = new PostgresRunStore(appConfig(url), FaultInjector.NONE);
    assertThat(s.scoped()).as("the application role is subject to RLS").isTrue();
    return s;
  }

  @AfterAll
  static void dropSchemasAndLogin() throws SQLException {
    try (Connection c = owner(null);
        Statement s = c.createStatement()) {
      for (String schema : SCHEMAS) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
      s.execute("DROP ROLE IF EXISTS " + APP);
    }
  }

  private static void scope(Connection c, String tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('keel.tenant', ?, true)")) {
      ps.setString(1, tenant);
      ps.execute();
    }
  }

  private static long count(Connection c, String sql, String... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static List<String> strings(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** An acme run waiting on approval {@code apr_acme}, and a globex run; returns their ids. */
  private RunId[] twoTenants() {
    awaitingApproval("apr_acme", Instant.now().plus(Duration.ofHours(1)));
    RunId acme = store.approvals(TENANT, Optional.empty(), 10).getFirst().runId();
    NewRun g = newRun(newId(), "globex", Optional.empty());
    store.create(g);
    return new RunId[] {acme, g.runId()};
  }

  @Test
  void anotherTenantsRunsEventsAndApprovalsAreInvisibleWithoutATenantFilter() throws Exception {
    RunId[] ids = twoTenants();
    RunId acme = ids[0];
    RunId globex = ids[1];
    try (Connection c = asApp()) {
      scope(c, "globex");
      assertThat(strings(c, "SELECT id FROM runs")).containsExactly(globex.value());
      assertThat(strings(c, "SELECT DISTINCT run_id FROM run_events"))
          .containsExactly(globex.value());
      assertThat(count(c, "SELECT count(*) FROM run_events WHERE run_id = ?", acme.value()))
          .isZero();
      assertThat(count(c, "SELECT count(*) FROM approvals")).isZero();
      assertThat(count(c, "SELECT count(*) FROM runs WHERE tenant_id = 'acme'")).isZero();
      assertThat(count(c, "SELECT count(*) FROM tool_invocations")).isZero();
      c.rollback();

      scope(c, "acme");
      assertThat(strings(c, "SELECT id FROM runs")).containsExactly(acme.value());
      assertThat(strings(c, "SELECT id FROM approvals")).containsExactly("apr_acme");
      assertThat(count(c, "SELECT count(*) FROM run_events")).isGreaterThan(3);
      assertThat(count(c, "SELECT count(*) FROM run_events WHERE run_id = ?", globex.value()))
          .isZero();
      c.rollback();

      // A transaction that sets no tenant sees nothing at all.
      assertThat(count(c, "SELECT count(*) FROM runs")).isZero();
      assertThat(count(c, "SELECT count(*) FROM run_events")).isZero();
      c.rollback();

      // The scope is per transaction: it is gone after the commit.
      scope(c, "*");
      assertThat(count(c, "SELECT count(*) FROM runs")).isEqualTo(2);
      c.commit();
      assertThat(count(c, "SELECT count(*) FROM runs")).isZero();
      c.rollback();
    }
  }

  @Test
  void theStoreInATenantScopeSeesOnlyThatTenantEvenIfACallerForgetsTheTenant() {
    RunId[] ids = twoTenants();
    RunId acme = ids[0];
    RunId globex = ids[1];
    try (TenantScope.Entered in = TenantScope.enter("globex")) {
      assertThat(store.rows()).extracting(RunRow::runId).containsExactly(globex);
      assertThat(store.row(acme)).isEmpty();
      assertThat(store.events(acme, 0, 100)).isEmpty();
      assertThat(store.load(acme).events()).isEmpty();
      // Even a caller that names the right tenant of another scope's row gets nothing.
      assertThat(store.approval(TENANT, "apr_acme")).isEmpty();
      assertThat(store.approvals(TENANT, Optional.empty(), 10)).isEmpty();
      assertThat(store.events(globex, 0, 100)).hasSize(1);
    }
    try (TenantScope.Entered in = TenantScope.enter(TENANT)) {
      assertThat(store.rows()).extracting(RunRow::runId).containsExactly(acme);
      assertThat(store.approval(TENANT, "apr_acme"))
          .map(ApprovalRecord::approvalId)
          .hasValue("apr_acme");
      // A write for another tenant's run in this scope finds no run.
      assertThat(
              store.signal(
                  "globex", globex, new dev.keel.store.SignalPayload.Pause("mallory@acme")))
          .isEmpty();
    }
    // Outside any request the store works for every tenant (workers).
    assertThat(store.rows()).hasSize(2);
    assertThat(store.signals(globex, 0)).isEmpty();
  }

  @Test
  void theApplicationRoleCannotChangeEventsNorLiftTheWall() throws Exception {
    RunId[] ids = twoTenants();
    String acme = ids[0].value();
    try (Connection c = asApp()) {
      List<String> refused =
          List.of(
              "UPDATE run_events SET data = '{}' WHERE run_id = '" + acme + "'",
              "DELETE FROM run_events WHERE run_id = '" + acme + "'",
              "TRUNCATE run_events",
              "UPDATE run_checkpoints SET state = '{}'",
              "DELETE FROM runs",
              "ALTER TABLE runs DISABLE ROW LEVEL SECURITY",
              "ALTER TABLE runs NO FORCE ROW LEVEL SECURITY",
              "DROP POLICY keel_tenant ON runs",
              "ALTER TABLE run_events DISABLE TRIGGER run_events_append_only",
              "DROP TRIGGER run_events_append_only ON run_events",
              "CREATE POLICY everything ON runs USING (true)");
      for (String sql : refused) {
        scope(c, "*");
        assertThatThrownBy(() -> exec(c, sql))
            .as(sql)
            .isInstanceOf(SQLException.class)
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        c.rollback();
      }
      // Turning row security off for the session is refused when a policy would apply.
      exec(c, "SET row_security = off");
      assertThatThrownBy(() -> count(c, "SELECT count(*) FROM runs"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("row-level security");
      c.rollback();
      exec(c, "RESET row_security");
      // Moving a row to another tenant than the scope is refused; another's rows are not hit.
      scope(c, "globex");
      assertThatThrownBy(() -> exec(c, "UPDATE runs SET tenant_id = 'acme'"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("row-level security");
      c.rollback();
      scope(c, "globex");
      try (Statement s = c.createStatement()) {
        assertThat(s.executeUpdate("UPDATE runs SET phase = phase WHERE id = '" + acme + "'"))
            .isZero();
      }
      c.rollback();
    }
    try (Connection c = asApp()) {
      scope(c, "*");
      assertThat(count(c, "SELECT count(*) FROM run_events WHERE run_id = ?", acme))
          .isGreaterThan(3);
      assertThat(count(c, "SELECT count(*) FROM runs WHERE tenant_id = 'acme'")).isEqualTo(1);
      c.rollback();
    }
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void aSuperuserAsTheApplicationRoleIsRefused() {
    assertThatThrownBy(
            () ->
                new PostgresRunStore(
                    PostgresConfig.of(shared())
                        .withCredentials(OWNER, OWNER_PASSWORD)
                        .withApplicationRole(OWNER, OWNER_PASSWORD),
                    FaultInjector.NONE))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("store.app-user '" + OWNER + "' is a superuser");
  }

  /**
   * Tables that are not tenant data: the migration history, the API keys (hashes only) and the
   * deployment's agent definitions (decision 0024).
   */
  private static final java.util.Set<String> GLOBAL =
      java.util.Set.of("flyway_schema_history", "keel_api_keys", "agent_definitions");

  /** Evidence the application may add to but never change. */
  private static final List<String> APPEND_ONLY =
      List.of(
          "run_events", "run_checkpoints", "run_signals", "webhook_attempts", "agent_definitions");

  @Test
  void everyTableOfTheSchemaIsWalledAndGrantedToTheApplicationRole() throws Exception {
    List<String> problems = new ArrayList<>();
    try (Connection c = owner(shared().replaceAll(".*currentSchema=", ""));
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                    + " has_table_privilege('keel_app', c.oid, 'SELECT'),"
                    + " has_table_privilege('keel_app', c.oid, 'UPDATE'),"
                    + " has_table_privilege('keel_app', c.oid, 'DELETE'),"
                    + " has_table_privilege('keel_app', c.oid, 'TRUNCATE')"
                    + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1");
        ResultSet rs = ps.executeQuery()) {
      int tables = 0;
      while (rs.next()) {
        tables++;
        String t = rs.getString(1);
        if (!GLOBAL.contains(t) && !(rs.getBoolean(2) && rs.getBoolean(3))) {
          problems.add(
              t
                  + ": row-level security is not enabled and forced; add it with a keel_tenant"
                  + " policy in the migration that creates the table (see V30, decision 0043)");
        }
        if (!rs.getBoolean(4)) {
          problems.add(t + ": keel_app may not SELECT it; grant what the application needs");
        }
        if (rs.getBoolean(7)) {
          problems.add(t + ": keel_app may TRUNCATE it");
        }
        if (APPEND_ONLY.contains(t) && (rs.getBoolean(5) || rs.getBoolean(6))) {
          problems.add(t + ": keel_app may UPDATE or DELETE evidence");
        }
      }
      assertThat(tables).isGreaterThan(10);
    }
    assertThat(problems).isEmpty();
  }
}
