package dev.keel.app;

import dev.keel.server.auth.ApiKey;
import dev.keel.server.auth.ApiKeys;
import dev.keel.server.auth.Role;
import dev.keel.server.auth.Scope;
import dev.keel.store.StoreException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * API keys in a small table of their own ({@code keel_api_keys}) in the store's database, created
 * at start with plain JDBC on SQLite and PostgreSQL alike. Only SHA-256 hashes of tokens are
 * stored. Keys are never changed once written, so found keys are cached.
 */
final class JdbcApiKeys implements ApiKeys {
  private static final String DDL =
      "CREATE TABLE IF NOT EXISTS keel_api_keys (id VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64)"
          + " NOT NULL, role VARCHAR(16) NOT NULL, scopes VARCHAR(256) NOT NULL, secret_hash"
          + " CHAR(64) NOT NULL, created_at VARCHAR(40) NOT NULL)";
  private final String url;
  private final String user;
  private final String password;
  private final Map<String, ApiKey> cache = new ConcurrentHashMap<>();

  JdbcApiKeys(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      if (!exists(s)) {
        s.execute(DDL);
      }
    } catch (SQLException x) {
      throw failure("create the keel_api_keys table", x);
    }
  }

  /**
   * Whether the table is there (on PostgreSQL migration V30 creates it): an application role that
   * may not create tables then needs no CREATE, which even {@code IF NOT EXISTS} would check.
   */
  private static boolean exists(Statement s) {
    try {
      s.execute("SELECT 1 FROM keel_api_keys WHERE 1 = 0");
      return true;
    } catch (SQLException x) {
      return false;
    }
  }

  private Connection connect() throws SQLException {
    Connection c =
        user.isEmpty()
            ? DriverManager.getConnection(url)
            : DriverManager.getConnection(url, user, password);
    if (url.startsWith("jdbc:sqlite:")) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA busy_timeout=5000");
      }
    }
    return c;
  }

  private StoreException failure(String what, SQLException x) {
    return new StoreException(
        "could not "
            + what
            + " in the store at "
            + url.replaceAll("(?i)(password=)[^&]*", "$1***")
            + ": "
            + x.getMessage(),
        true,
        x);
  }

  @Override
  public Optional<ApiKey> find(String id) {
    ApiKey cached = cache.get(id);
    if (cached != null) {
      return Optional.of(cached);
    }
    try (Connection c = connect();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT id, tenant, role, scopes, secret_hash, created_at FROM keel_api_keys"
                    + " WHERE id = ?")) {
      p.setString(1, id);
      try (ResultSet rs = p.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        ApiKey k = read(rs);
        cache.put(id, k);
        return Optional.of(k);
      }
    } catch (SQLException x) {
      throw failure("read API key " + id, x);
    }
  }

  private static ApiKey read(ResultSet rs) throws SQLException {
    String scopes = rs.getString(4);
    Set<Scope> set =
        scopes.isBlank()
            ? Set.of()
            : Arrays.stream(scopes.split(",")).map(Scope::fromWire).collect(Collectors.toSet());
    return new ApiKey(
        rs.getString(1),
        rs.getString(2),
        Role.fromWire(rs.getString(3)),
        set,
        rs.getString(5),
        Instant.parse(rs.getString(6)));
  }

  @Override
  public void save(ApiKey key) {
    try (Connection c = connect();
        PreparedStatement p =
            c.prepareStatement(
                "INSERT INTO keel_api_keys (id, tenant, role, scopes, secret_hash, created_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?)")) {
      p.setString(1, key.id());
      p.setString(2, key.tenant());
      p.setString(3, key.role().wire());
      p.setString(
          4, key.scopes().stream().map(Scope::wire).sorted().collect(Collectors.joining(",")));
      p.setString(5, key.secretHash());
      p.setString(6, key.createdAt().toString());
      p.executeUpdate();
    } catch (SQLException x) {
      throw failure("save API key " + key.id(), x);
    }
  }

  @Override
  public List<ApiKey> all() {
    List<ApiKey> out = new ArrayList<>();
    try (Connection c = connect();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT id, tenant, role, scopes, secret_hash, created_at FROM keel_api_keys"
                    + " ORDER BY created_at, id");
        ResultSet rs = p.executeQuery()) {
      while (rs.next()) {
        out.add(read(rs));
      }
    } catch (SQLException x) {
      throw failure("list API keys", x);
    }
    return out;
  }
}
