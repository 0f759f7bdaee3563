package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class CachingConnectionTest {

  private static long one(PreparedStatement ps, long x) throws Exception {
    ps.setLong(1, x);
    try (ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      return rs.getLong(1);
    }
  }

  @Test
  void aStatementIsCompiledOnceAndServesLaterUsesWithFreshParameters() throws Exception {
    Path dir = Files.createTempDirectory("keel-caching");
    try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("t.db"))) {
      try (Statement s = raw.createStatement()) {
        s.execute("CREATE TABLE t (x INTEGER)");
        s.execute("INSERT INTO t VALUES (1), (2), (3)");
      }
      CachingConnection cc = new CachingConnection(raw);
      Connection c = cc.view();
      String sql = "SELECT count(*) FROM t WHERE x >= ?";
      PreparedStatement first;
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        first = ps.unwrap(PreparedStatement.class);
        assertThat(one(ps, 2)).isEqualTo(2);
      }
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        assertThat(ps.unwrap(PreparedStatement.class))
            .as("the same compiled statement")
            .isSameAs(first);
        assertThat(one(ps, 3)).isEqualTo(1);
        // A nested use of the same SQL gets a statement of its own, closed for real.
        try (PreparedStatement nested = c.prepareStatement(sql)) {
          assertThat(nested.unwrap(PreparedStatement.class)).isNotSameAs(first);
          assertThat(one(nested, 1)).isEqualTo(3);
        }
        assertThat(one(ps, 1)).isEqualTo(3);
      }
      assertThatThrownBy(c::close).isInstanceOf(IllegalStateException.class);
      cc.closeStatements();
      assertThat(first.isClosed()).isTrue();
    }
  }
}
