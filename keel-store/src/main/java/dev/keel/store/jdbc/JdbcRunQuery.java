package dev.keel.store.jdbc;

import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.RunQuery;
import dev.keel.store.RunRow;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link RunQuery} in SQL over the {@code runs} table: tenant-scoped, filtered in the WHERE clause
 * and paged by keyset on {@code (created_at, id)} with the indexes of schema 5. One query per page,
 * whatever the number of runs.
 */
public final class JdbcRunQuery implements RunQuery {
  private static final String COLUMNS =
      "id, tenant_id, agent_name, status, last_seq, signal_seq, lease_owner, lease_epoch,"
          + " lease_expires_at, ready_at, idempotency_key, created_at, updated_at";
  private final SideDb db;

  /** Lists runs in {@code db}. */
  public JdbcRunQuery(SideDb db) {
    this.db = db;
  }

  @Override
  public Page list(Filter f, Optional<Position> after, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
    StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS);
    sql.append(" FROM runs WHERE tenant_id = ?");
    f.status().ifPresent(s -> sql.append(" AND status = ?"));
    f.agent().ifPresent(s -> sql.append(" AND agent_name = ?"));
    f.threadId().ifPresent(s -> sql.append(" AND thread_id = ?"));
    after.ifPresent(p -> sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))"));
    sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
    return db.with(
        "listing runs of tenant " + f.tenant(),
        c -> {
          List<RunRow> out = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 0;
            ps.setString(++i, f.tenant());
            if (f.status().isPresent()) {
              ps.setString(++i, f.status().get().wire());
            }
            if (f.agent().isPresent()) {
              ps.setString(++i, f.agent().get());
            }
            if (f.threadId().isPresent()) {
              ps.setString(++i, f.threadId().get());
            }
            if (after.isPresent()) {
              long ms = after.get().createdAt().toEpochMilli();
              ps.setLong(++i, ms);
              ps.setLong(++i, ms);
              ps.setString(++i, after.get().runId().value());
            }
            ps.setInt(++i, limit + 1);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(row(rs));
              }
            }
          }
          boolean more = out.size() > limit;
          List<RunRow> page = more ? out.subList(0, limit) : out;
          return new Page(page, more ? Optional.of(Position.of(page.getLast())) : Optional.empty());
        });
  }

  private static RunRow row(ResultSet rs) throws SQLException {
    return new RunRow(
        RunId.of(rs.getString(1)),
        rs.getString(2),
        rs.getString(3),
        RunStatus.fromWire(rs.getString(4)),
        rs.getLong(5),
        rs.getLong(6),
        Optional.ofNullable(rs.getString(7)),
        rs.getLong(8),
        millis(rs, 9),
        millis(rs, 10),
        Optional.ofNullable(rs.getString(11)),
        Instant.ofEpochMilli(rs.getLong(12)),
        Instant.ofEpochMilli(rs.getLong(13)));
  }

  private static Optional<Instant> millis(ResultSet rs, int col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
  }

  @Override
  public long count(Filter f, Instant since) {
    StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM runs WHERE tenant_id = ?");
    f.status().ifPresent(s -> sql.append(" AND status = ?"));
    f.agent().ifPresent(s -> sql.append(" AND agent_name = ?"));
    f.threadId().ifPresent(s -> sql.append(" AND thread_id = ?"));
    sql.append(" AND created_at >= ?");
    return db.with(
        "counting runs of tenant " + f.tenant(),
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 0;
            ps.setString(++i, f.tenant());
            if (f.status().isPresent()) {
              ps.setString(++i, f.status().get().wire());
            }
            if (f.agent().isPresent()) {
              ps.setString(++i, f.agent().get());
            }
            if (f.threadId().isPresent()) {
              ps.setString(++i, f.threadId().get());
            }
            ps.setLong(++i, since.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  @Override
  public long queued() {
    return db.with(
        "counting queued runs",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT COUNT(*) FROM runs WHERE status = ?"); ) {
            ps.setString(1, RunStatus.QUEUED.wire());
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }
}
