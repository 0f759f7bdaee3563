package dev.keel.store.jdbc;

import dev.keel.store.IdempotencyStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;

/**
 * {@link IdempotencyStore} in the table {@code idempotency_keys} (schema 5) of the store's
 * database, SQLite or PostgreSQL.
 *
 * <p>Implementation notes. {@link #begin} inserts the entry with {@code ON CONFLICT DO NOTHING}:
 * the database's primary key decides which racing caller starts. Every other step is a conditional
 * update or delete that names the values it read, so two callers never both take over a stale entry
 * or both drop an expired one.
 */
public final class JdbcIdempotencyStore implements IdempotencyStore {
  private final SideDb db;

  /** Entries in {@code db}, whose schema the run store has migrated. */
  public JdbcIdempotencyStore(SideDb db) {
    this.db = db;
  }

  @Override
  public Begin begin(
      String tenant,
      String scope,
      String key,
      String requestHash,
      Instant now,
      Duration ttl,
      Duration lock) {
    long nowMs = now.toEpochMilli();
    return db.joinedTx(
        "starting Idempotency-Key '" + key + "'",
        c -> {
          for (int attempt = 0; attempt < 5; attempt++) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO idempotency_keys (tenant_id, scope, idem_key, request_hash,"
                        + " created_at, locked_until) VALUES (?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING")) {
              ps.setString(1, tenant);
              ps.setString(2, scope);
              ps.setString(3, key);
              ps.setString(4, requestHash);
              ps.setLong(5, nowMs);
              ps.setLong(6, nowMs + lock.toMillis());
              if (ps.executeUpdate() == 1) {
                return new Begin.Started();
              }
            }
            Begin found = existing(c, tenant, scope, key, requestHash, nowMs, ttl, lock);
            if (found != null) {
              return found;
            }
          }
          return new Begin.InFlight();
        });
  }

  /** What the existing entry means, or null to try the insert again. */
  private static Begin existing(
      Connection c,
      String tenant,
      String scope,
      String key,
      String requestHash,
      long nowMs,
      Duration ttl,
      Duration lock)
      throws SQLException {
    String hash;
    Long status;
    String response;
    long created;
    long lockedUntil;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT request_hash, status, response, created_at, locked_until FROM"
                + " idempotency_keys WHERE tenant_id = ? AND scope = ? AND idem_key = ?")) {
      ps.setString(1, tenant);
      ps.setString(2, scope);
      ps.setString(3, key);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        hash = rs.getString(1);
        long s = rs.getLong(2);
        status = rs.wasNull() ? null : s;
        response = rs.getString(3);
        created = rs.getLong(4);
        lockedUntil = rs.getLong(5);
      }
    }
    if (created + ttl.toMillis() <= nowMs) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "DELETE FROM idempotency_keys WHERE tenant_id = ? AND scope = ? AND idem_key = ?"
                  + " AND created_at = ?")) {
        ps.setString(1, tenant);
        ps.setString(2, scope);
        ps.setString(3, key);
        ps.setLong(4, created);
        ps.executeUpdate();
      }
      return null;
    }
    if (!hash.equals(requestHash)) {
      return new Begin.Mismatch();
    }
    if (status != null) {
      return new Begin.Replay(status.intValue(), response == null ? "" : response);
    }
    if (lockedUntil <= nowMs) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE idempotency_keys SET locked_until = ? WHERE tenant_id = ? AND scope = ?"
                  + " AND idem_key = ? AND status IS NULL AND locked_until = ?")) {
        ps.setLong(1, nowMs + lock.toMillis());
        ps.setString(2, tenant);
        ps.setString(3, scope);
        ps.setString(4, key);
        ps.setLong(5, lockedUntil);
        if (ps.executeUpdate() == 1) {
          return new Begin.Started();
        }
      }
    }
    return new Begin.InFlight();
  }

  @Override
  public void complete(String tenant, String scope, String key, int status, String body) {
    db.joinedTx(
        "recording the answer to Idempotency-Key '" + key + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE idempotency_keys SET status = ?, response = ? WHERE tenant_id = ?"
                      + " AND scope = ? AND idem_key = ? AND status IS NULL")) {
            ps.setLong(1, status);
            ps.setString(2, body);
            ps.setString(3, tenant);
            ps.setString(4, scope);
            ps.setString(5, key);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public void release(String tenant, String scope, String key) {
    db.joinedTx(
        "releasing Idempotency-Key '" + key + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM idempotency_keys WHERE tenant_id = ? AND scope = ? AND idem_key = ?"
                      + " AND status IS NULL")) {
            ps.setString(1, tenant);
            ps.setString(2, scope);
            ps.setString(3, key);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public int purge(Instant before) {
    return db.joinedTx(
        "purging expired Idempotency-Key answers",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM idempotency_keys WHERE created_at < ?")) {
            ps.setLong(1, before.toEpochMilli());
            return ps.executeUpdate();
          }
        });
  }
}
