package dev.keel.bench;

import dev.keel.store.RunStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fresh PostgreSQL database created for the benchmark and dropped afterwards. The floor's table
 * is in schema {@code bench_floor} and Keel's store in {@code public}, so both share one database,
 * one WAL and one fsync, and Keel's migrations see an empty default schema.
 *
 * <p>The server is reached through {@code PG_URL} (any database on the server; default {@code
 * jdbc:postgresql://127.0.0.1:5432/test}) as {@code PG_USER} (default {@code postgres}) with {@code
 * PG_PASSWORD} (default none).
 */
final class PostgresDatabase implements BenchDatabase {
  private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/?]+/)([^?]*)(\\?.*)?");
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final String adminUrl;
  private final String url;
  private final String name;
  private final Properties props;

  /** Creates the database and the floor's table. */
  PostgresDatabase() {
    String base = System.getenv().getOrDefault("PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    Matcher m = URL.matcher(base);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "PG_URL '" + base + "' must look like jdbc:postgresql://host:port/database");
    }
    this.adminUrl = base;
    this.name = "keel_bench_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
    this.url = m.group(1) + name + (m.group(3) == null ? "" : m.group(3));
    this.props = new Properties();
    if (!base.contains("user=")) {
      props.setProperty("user", System.getenv().getOrDefault("PG_USER", "postgres"));
    }
    String password = System.getenv("PG_PASSWORD");
    if (password != null) {
      props.setProperty("password", password);
    }
    try (Connection c = DriverManager.getConnection(adminUrl, props);
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not create database " + name + " through " + adminUrl + ": " + e.getMessage(), e);
    }
    try (Connection c = DriverManager.getConnection(url, props);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA bench_floor");
      s.execute(
          "CREATE TABLE bench_floor.floor_steps (run_id TEXT NOT NULL, seq INT NOT NULL,"
              + " payload JSONB NOT NULL, PRIMARY KEY (run_id, seq))");
    } catch (SQLException e) {
      close();
      throw new IllegalStateException("creating the floor table in " + name + ": " + e, e);
    }
  }

  /** The JDBC address of the benchmark's database. */
  String url() {
    return url;
  }

  @Override
  public String key() {
    return "postgres";
  }

  @Override
  public String label() {
    return "PostgreSQL, synchronous_commit=" + setting("synchronous_commit");
  }

  private String setting(String key) {
    try (Connection c = DriverManager.getConnection(url, props);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + key)) {
      return rs.next() ? rs.getString(1) : "?";
    } catch (SQLException e) {
      return "?";
    }
  }

  @Override
  public boolean hasFloor() {
    return true;
  }

  @Override
  public Connection floorConnection() throws SQLException {
    Connection c = DriverManager.getConnection(url, props);
    c.setAutoCommit(true);
    return c;
  }

  @Override
  public boolean floorSharesOneConnection() {
    return false;
  }

  @Override
  public RunStore openStore() {
    return KeelStores.postgres(url, props);
  }

  /**
   * Reads {@code pg_stat_database.xact_commit}. The server publishes a backend's counts when it
   * goes idle, at most once a second, so callers wait a little after a burst before reading.
   */
  @Override
  public Optional<DriverProbe> driverProbe() {
    return Optional.of(
        new DriverProbe(Optional.empty(), "org.postgresql.core.v3.QueryExecutorImpl::sendSync"));
  }

  @Override
  public OptionalLong transactions() {
    try (Connection c = DriverManager.getConnection(adminUrl, props);
        PreparedStatement ps =
            c.prepareStatement("SELECT xact_commit FROM pg_stat_database WHERE datname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
      }
    } catch (SQLException e) {
      return OptionalLong.empty();
    }
  }

  @Override
  public OptionalLong storeBytes() {
    try (Connection c = DriverManager.getConnection(url, props);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')")) {
      return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
    } catch (SQLException e) {
      return OptionalLong.empty();
    }
  }

  @Override
  public void close() {
    try (Connection c = DriverManager.getConnection(adminUrl, props);
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      System.err.println("could not drop database " + name + ": " + e.getMessage());
    }
  }
}
