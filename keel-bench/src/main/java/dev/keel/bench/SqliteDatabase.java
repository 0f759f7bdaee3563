package dev.keel.bench;

import dev.keel.store.RunStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A fresh temporary directory holding two SQLite files on the same disk: the floor's ({@code
 * floor.db}) and Keel's ({@code keel.db}). Both run in WAL mode with {@code synchronous=FULL}, so
 * every commit is fsynced. They are separate files so Keel's migrations see an empty database.
 */
final class SqliteDatabase implements BenchDatabase {
  private final Path dir;
  private final Path floorFile;
  private final Path keelFile;

  /** Creates the directory and the floor's table. */
  SqliteDatabase() {
    try {
      this.dir = Files.createTempDirectory("keel-bench-sqlite-");
    } catch (IOException e) {
      throw new UncheckedIOException("creating a temporary directory for SQLite", e);
    }
    this.floorFile = dir.resolve("floor.db");
    this.keelFile = dir.resolve("keel.db");
    try (Connection c = floorConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE floor_steps (run_id TEXT NOT NULL, seq INTEGER NOT NULL,"
              + " payload TEXT NOT NULL, PRIMARY KEY (run_id, seq))");
    } catch (SQLException e) {
      throw new IllegalStateException("creating the floor table in " + floorFile + ": " + e, e);
    }
  }

  @Override
  public String key() {
    return "sqlite";
  }

  @Override
  public String label() {
    return "SQLite WAL, synchronous=FULL";
  }

  @Override
  public boolean hasFloor() {
    return true;
  }

  @Override
  public Connection floorConnection() throws SQLException {
    // One INSERT per step and nothing else: no "SELECT last_insert_rowid()" after it, as in
    // Keel's store.
    Properties props = new Properties();
    props.setProperty("jdbc.get_generated_keys", "false");
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + floorFile, props);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=FULL");
      s.execute("PRAGMA busy_timeout=10000");
    }
    c.setAutoCommit(true);
    return c;
  }

  @Override
  public boolean floorSharesOneConnection() {
    return true;
  }

  @Override
  public RunStore openStore() {
    return KeelStores.sqlite(keelFile);
  }

  @Override
  public Optional<DriverProbe> driverProbe() {
    return Optional.of(
        new DriverProbe(
            // Keel's SQLite store commits by turning auto-commit back on (one COMMIT, no new
            // BEGIN), not through Connection.commit(), so its commits are counted where the
            // committer issues them.
            Optional.of("dev.keel.store.jdbc.GroupCommitter::commit"),
            "org.sqlite.core.NativeDB::prepare"));
  }

  @Override
  public OptionalLong transactions() {
    return OptionalLong.empty();
  }

  @Override
  public OptionalLong storeBytes() {
    long total = 0;
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Path p = dir.resolve(keelFile.getFileName() + suffix);
      try {
        total += Files.exists(p) ? Files.size(p) : 0;
      } catch (IOException e) {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.of(total);
  }

  @Override
  public void close() {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }
}
