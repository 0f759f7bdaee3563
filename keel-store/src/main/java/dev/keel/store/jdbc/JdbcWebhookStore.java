package dev.keel.store.jdbc;

import dev.keel.run.RunId;
import dev.keel.store.WebhookStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link WebhookStore} in the tables of schema 6 ({@code webhook_subscriptions}, {@code
 * webhook_deliveries}, {@code webhook_attempts}), SQLite or PostgreSQL.
 *
 * <p>Implementation notes. Leasing a due delivery is a conditional UPDATE on its {@code
 * lease_until}, so of several dispatchers (several servers on one PostgreSQL) only one sends it.
 */
public final class JdbcWebhookStore implements WebhookStore {
  private static final String DELIVERY =
      "id, tenant_id, run_id, seq, type, url, body, status, attempts";
  private final SideDb db;

  /** Webhooks in {@code db}, whose schema the run store has migrated. */
  public JdbcWebhookStore(SideDb db) {
    this.db = db;
  }

  @Override
  public void subscribe(String tenant, RunId runId, String url, Instant now) {
    db.with(
        "subscribing run " + runId + " to webhooks",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO webhook_subscriptions (run_id, tenant_id, url, created_at)"
                      + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, runId.value());
            ps.setString(2, tenant);
            ps.setString(3, url);
            ps.setLong(4, now.toEpochMilli());
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public List<Subscription> open(int limit) {
    return db.with(
        "listing open webhook subscriptions",
        c -> {
          List<Subscription> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT run_id, tenant_id, url, scanned_seq FROM webhook_subscriptions"
                      + " WHERE done = 0 ORDER BY created_at, run_id LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Subscription(
                        RunId.of(rs.getString(1)),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4)));
              }
            }
          }
          return out;
        });
  }

  @Override
  public void enqueue(
      RunId runId, long scannedThrough, List<Delivery> deliveries, boolean done, Instant now) {
    long ms = now.toEpochMilli();
    db.tx(
        "enqueuing webhook deliveries of " + runId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO webhook_deliveries (id, tenant_id, run_id, seq, type, url, body,"
                      + " status, attempts, next_attempt_at, created_at, updated_at)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)"
                      + " ON CONFLICT DO NOTHING")) {
            for (Delivery d : deliveries) {
              int i = 0;
              ps.setString(++i, d.id());
              ps.setString(++i, d.tenant());
              ps.setString(++i, d.runId().value());
              ps.setLong(++i, d.seq());
              ps.setString(++i, d.type());
              ps.setString(++i, d.url());
              ps.setString(++i, d.body());
              ps.setLong(++i, ms);
              ps.setLong(++i, ms);
              ps.setLong(++i, ms);
              ps.executeUpdate();
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE webhook_subscriptions SET scanned_seq = ?, done = ? WHERE run_id = ?"
                      + " AND scanned_seq <= ?")) {
            ps.setLong(1, scannedThrough);
            ps.setInt(2, done ? 1 : 0);
            ps.setString(3, runId.value());
            ps.setLong(4, scannedThrough);
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public List<Delivery> due(Instant now, Duration lease, int limit) {
    long ms = now.toEpochMilli();
    return db.with(
        "leasing due webhook deliveries",
        c -> {
          List<Delivery> candidates = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + DELIVERY
                      + ", lease_until FROM webhook_deliveries WHERE status = 'pending'"
                      + " AND next_attempt_at <= ? AND lease_until <= ?"
                      + " ORDER BY next_attempt_at, id LIMIT ?")) {
            ps.setLong(1, ms);
            ps.setLong(2, ms);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                candidates.add(delivery(rs));
              }
            }
          }
          List<Delivery> leased = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?"
                      + " AND status = 'pending' AND lease_until <= ?")) {
            for (Delivery d : candidates) {
              ps.setLong(1, ms + lease.toMillis());
              ps.setString(2, d.id());
              ps.setLong(3, ms);
              if (ps.executeUpdate() == 1) {
                leased.add(d);
              }
            }
          }
          return leased;
        });
  }

  private static Delivery delivery(ResultSet rs) throws SQLException {
    return new Delivery(
        rs.getString(1),
        rs.getString(2),
        RunId.of(rs.getString(3)),
        rs.getLong(4),
        rs.getString(5),
        rs.getString(6),
        rs.getString(7),
        rs.getString(8),
        rs.getInt(9));
  }

  @Override
  public void record(Attempt a, String newStatus, Optional<Instant> retryAt) {
    long at = a.at().toEpochMilli();
    db.tx(
        "recording webhook attempt " + a.attempt() + " of " + a.deliveryId(),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO webhook_attempts (delivery_id, attempt, at, http_status, error,"
                      + " duration_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, a.deliveryId());
            ps.setInt(2, a.attempt());
            ps.setLong(3, at);
            ps.setInt(4, a.httpStatus());
            ps.setString(5, a.error());
            ps.setLong(6, a.durationMs());
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
                      + " lease_until = 0, updated_at = ? WHERE id = ?")) {
            ps.setString(1, newStatus);
            ps.setInt(2, a.attempt());
            ps.setLong(3, retryAt.map(Instant::toEpochMilli).orElse(at));
            ps.setLong(4, at);
            ps.setString(5, a.deliveryId());
            ps.executeUpdate();
          }
          return null;
        });
  }

  @Override
  public List<Delivery> deliveries(RunId runId) {
    return db.with(
        "listing webhook deliveries of " + runId,
        c -> {
          List<Delivery> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + DELIVERY
                      + " FROM webhook_deliveries WHERE run_id = ? ORDER BY seq")) {
            ps.setString(1, runId.value());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(delivery(rs));
              }
            }
          }
          return out;
        });
  }

  @Override
  public List<Attempt> attempts(String deliveryId) {
    return db.with(
        "listing attempts of webhook delivery " + deliveryId, c -> attempts(c, deliveryId));
  }

  private static List<Attempt> attempts(Connection c, String deliveryId) throws SQLException {
    List<Attempt> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT delivery_id, attempt, at, http_status, error, duration_ms FROM"
                + " webhook_attempts WHERE delivery_id = ? ORDER BY attempt")) {
      ps.setString(1, deliveryId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Attempt(
                  rs.getString(1),
                  rs.getInt(2),
                  Instant.ofEpochMilli(rs.getLong(3)),
                  rs.getInt(4),
                  rs.getString(5),
                  rs.getLong(6)));
        }
      }
    }
    return out;
  }
}
