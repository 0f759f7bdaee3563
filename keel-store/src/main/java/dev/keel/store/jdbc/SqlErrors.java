package dev.keel.store.jdbc;

import dev.keel.store.StoreException;
import java.sql.SQLException;
import java.sql.SQLTransientException;

/** Turns SQL failures into {@link StoreException}s that say what failed and may be retried. */
final class SqlErrors {
  private SqlErrors() {}

  /** Wraps {@code e}, raised while doing {@code what}, with its retryability classified. */
  static StoreException wrap(String what, SQLException e) {
    return new StoreException(
        what
            + " failed: "
            + e.getMessage()
            + " (SQLState "
            + e.getSQLState()
            + ", code "
            + e.getErrorCode()
            + ")",
        retryable(e),
        e);
  }

  /**
   * Whether a statement that failed with {@code e} may succeed if tried again: SQLite busy or
   * locked; PostgreSQL serialization failures, deadlocks, lost connections, shutdowns and too many
   * connections.
   */
  static boolean retryable(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientException) {
        return true;
      }
      if (t instanceof SQLException s) {
        int primary = s.getErrorCode() & 0xff;
        String state = s.getSQLState();
        boolean sqlite = s.getClass().getName().startsWith("org.sqlite");
        if (sqlite && (primary == 5 || primary == 6)) {
          return true;
        }
        if (state != null
            && (state.equals("40001")
                || state.equals("40P01")
                || state.startsWith("08")
                || state.equals("57P01")
                || state.equals("57P02")
                || state.equals("57P03")
                || state.equals("53300"))) {
          return true;
        }
      }
    }
    return false;
  }
}
