package dev.keel.store.jdbc;

import dev.keel.store.StoreException;
import dev.keel.store.TenantScope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Passes the current {@link TenantScope} to PostgreSQL's row-level security: {@code
 * set_config('keel.tenant', tenant, true)}, which lasts until the end of the transaction. The
 * policies of migration V30 show a role a row only if its tenant is the one set, or the scope is
 * {@code *} (every tenant); a transaction that sets nothing sees nothing.
 *
 * <p>A role that bypasses row-level security (a superuser, {@code BYPASSRLS}) would gain nothing
 * from the setting, so for it {@link #enforced} is false and the stores skip the extra statement.
 */
final class PgScope {
  private PgScope() {}

  /** Whether the connected role is subject to row-level security. */
  static boolean enforced(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user");
        ResultSet rs = ps.executeQuery()) {
      return !(rs.next() && rs.getBoolean(1));
    }
  }

  /**
   * Sets the current thread's tenant scope for the rest of {@code c}'s transaction (auto-commit
   * must be off).
   */
  static void apply(Connection c) throws SQLException {
    apply(c, TenantScope.current());
  }

  /** Sets {@code scope} for the rest of {@code c}'s transaction. */
  static void apply(Connection c, String scope) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('keel.tenant', ?, true)")) {
      ps.setString(1, scope);
      ps.execute();
    }
  }

  /**
   * Refuses to run as a role that could lift the second wall: a superuser, a role with {@code
   * BYPASSRLS}, or the owner of the tables.
   */
  static void checkApplicationRole(Connection c, String where) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT r.rolname, r.rolsuper, r.rolbypassrls,"
                    + " pg_has_role(current_user, t.tableowner, 'USAGE')"
                    + " FROM pg_roles r, pg_tables t WHERE r.rolname = current_user"
                    + " AND t.tablename = 'runs' AND t.schemaname = current_schema()");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new StoreException(
            "the store at " + where + " has no runs table in the application role's schema", false);
      }
      String role = rs.getString(1);
      String problem =
          rs.getBoolean(2)
              ? "is a superuser"
              : rs.getBoolean(3)
                  ? "has BYPASSRLS"
                  : rs.getBoolean(4) ? "owns the tables (or is a member of their owner)" : null;
      if (problem != null) {
        throw new StoreException(
            "store.app-user '"
                + role
                + "' "
                + problem
                + ", so row-level security would not hold it; use a role that only has the"
                + " keel_app grants (see docs/decisions/0043-postgres-row-level-security.md)",
            false);
      }
    }
  }
}
