package dev.keel.store.jdbc;

import dev.keel.store.AgentDefinitions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.InstantSource;
import java.util.Optional;

/**
 * {@link AgentDefinitions} in the table {@code agent_definitions} (schema 32) of the store's
 * database, SQLite or PostgreSQL. Deployment-wide: no tenant column, no row-level security.
 *
 * <p>Implementation notes: {@link #save} is {@code INSERT ... ON CONFLICT DO NOTHING}, so the
 * primary key decides between racing processes; when nothing was inserted the stored hash is read
 * and compared, and a different one is refused. Rows are never updated or deleted (on PostgreSQL
 * the application role has no such grant).
 */
public final class JdbcAgentDefinitions implements AgentDefinitions {
  private final SideDb db;
  private final InstantSource clock;

  /** Definitions in {@code db}, whose schema the run store has migrated. */
  public JdbcAgentDefinitions(SideDb db, InstantSource clock) {
    this.db = db;
    this.clock = clock;
  }

  @Override
  public boolean save(Stored d) {
    return db.tx(
        "storing agent " + d.name() + " version " + d.version(),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO agent_definitions (name, version, content_hash, definition,"
                      + " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, d.name());
            ps.setString(2, d.version());
            ps.setString(3, d.contentHash());
            ps.setString(4, d.definition());
            ps.setLong(5, clock.millis());
            if (ps.executeUpdate() == 1) {
              return true;
            }
          }
          Stored before = read(c, d.name(), d.version()).orElseThrow();
          if (!before.contentHash().equals(d.contentHash())) {
            throw AgentDefinitions.conflict(before, d);
          }
          return false;
        });
  }

  @Override
  public Optional<Stored> find(String name, String version) {
    return db.with("reading agent " + name + " version " + version, c -> read(c, name, version));
  }

  private static Optional<Stored> read(java.sql.Connection c, String name, String version)
      throws java.sql.SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT content_hash, definition FROM agent_definitions WHERE name = ? AND version = ?")) {
      ps.setString(1, name);
      ps.setString(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Stored(name, version, rs.getString(1), rs.getString(2)))
            : Optional.empty();
      }
    }
  }
}
