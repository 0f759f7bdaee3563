package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

class SqlErrorsTest {
  @Test
  void sqliteBusyAndLockedAreRetryable() {
    assertThat(SqlErrors.retryable(new SQLiteException("busy", SQLiteErrorCode.SQLITE_BUSY)))
        .isTrue();
    assertThat(SqlErrors.retryable(new SQLiteException("locked", SQLiteErrorCode.SQLITE_LOCKED)))
        .isTrue();
    assertThat(
            SqlErrors.retryable(
                new SQLiteException("constraint", SQLiteErrorCode.SQLITE_CONSTRAINT)))
        .isFalse();
  }

  @Test
  void postgresSerializationDeadlockAndConnectionFailuresAreRetryable() {
    for (String state : new String[] {"40001", "40P01", "08006", "57P01", "53300"}) {
      assertThat(SqlErrors.retryable(new SQLException("x", state))).as(state).isTrue();
    }
    assertThat(SqlErrors.retryable(new SQLException("duplicate key", "23505"))).isFalse();
    assertThat(SqlErrors.retryable(new SQLException("syntax", "42601"))).isFalse();
  }

  @Test
  void theWrappedExceptionSaysWhatFailedAndKeepsTheCause() {
    SQLException cause = new SQLException("could not serialize", "40001");
    var e = SqlErrors.wrap("appending to run_1", cause);
    assertThat(e.getMessage()).contains("appending to run_1").contains("40001");
    assertThat(e.retryable()).isTrue();
    assertThat(e.getCause()).isSameAs(cause);
  }
}
