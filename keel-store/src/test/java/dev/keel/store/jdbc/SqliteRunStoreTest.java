package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.run.CrashPoint;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunState;
import dev.keel.store.Append;
import dev.keel.store.Checkpoint;
import dev.keel.store.Disposition;
import dev.keel.store.Lease;
import dev.keel.store.NewRun;
import dev.keel.store.RunStore;
import dev.keel.testkit.store.RunStoreContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on a SQLite file, plus what only SQLite has. */
class SqliteRunStoreTest extends RunStoreContract {
  @TempDir static Path templateDir;
  private static Path template;
  @TempDir Path dir;
  private int opened;

  /** Migrates one file per class; every store starts from a copy of it. */
  @BeforeAll
  static void migrateTemplate() {
    template = templateDir.resolve("template.db");
    new SqliteRunStore(SqliteConfig.of("jdbc:sqlite:" + template), FaultInjector.NONE).close();
  }

  @Override
  protected RunStore newStore() {
    Path file = dir.resolve("keel-" + opened++ + ".db");
    try {
      Files.copy(template, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new SqliteRunStore(SqliteConfig.of("jdbc:sqlite:" + file), FaultInjector.NONE);
  }

  private String url(String file) {
    return "jdbc:sqlite:" + dir.resolve(file);
  }

  @Test
  void aFreshFileIsMigratedToTheNewestSchema() {
    StoreMigrations.Result r = StoreMigrations.migrate(url("fresh.db"), "", "");
    assertThat(r.applied()).isPositive();
    assertThat(r.to()).isEqualTo(String.valueOf(StoreMigrations.LATEST));
    assertThat(StoreMigrations.migrate(url("fresh.db"), "", "").applied()).isZero();
  }

  @Test
  void bothDatabasesHaveMigrationsUpToTheNewestVersion() {
    for (String db : new String[] {"sqlite", "postgresql"}) {
      String prefix = "db/migration/" + db + "/V" + StoreMigrations.LATEST + "__";
      assertThat(getClass().getClassLoader().getResource("db/migration/" + db)).isNotNull();
      assertThat(
              java.util.Arrays.stream(
                      new java.io.File(
                              getClass()
                                  .getClassLoader()
                                  .getResource("db/migration/" + db)
                                  .getFile())
                          .list())
                  .anyMatch(f -> ("db/migration/" + db + "/" + f).startsWith(prefix)))
          .isTrue();
    }
  }

  @Test
  void theFileIsInWalMode() throws Exception {
    String url = url("keel-0.db");
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
    }
  }

  @Test
  void aCrashBetweenTheRunRowAndItsFirstEventLeavesNothing() {
    String url = url("b1.db");
    FaultInjector crash =
        (point, runId) -> {
          if (point == CrashPoint.B1_RUN_ROW_CREATED) {
            throw new IllegalStateException("crash at " + point);
          }
        };
    NewRun n = newRun(newId(), TENANT, Optional.of("k"));
    try (RunStore s = new SqliteRunStore(SqliteConfig.of(url), crash)) {
      assertThatThrownBy(() -> s.create(n)).hasMessageContaining("B1_RUN_ROW_CREATED");
      assertThat(s.rows()).isEmpty();
      assertThat(s.events(n.runId(), 0, 10)).isEmpty();
    }
    try (RunStore s = new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE)) {
      assertThat(s.rows()).isEmpty();
      assertThat(s.create(n).existing()).isFalse();
      assertThat(s.events(n.runId(), 0, 10)).hasSize(1);
    }
  }

  @Test
  void betweenWritesTheStoreHoldsNoTransactionOpen() throws Exception {
    // Appends that keep the lease, one that changes the status, and a release.
    started("w1");
    create();
    // Another process (here another connection, failing at once instead of waiting) can take
    // the write lock as soon as the writes returned: each batch's commit ended its transaction.
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("keel-0.db"));
        Statement s = other.createStatement()) {
      s.execute("PRAGMA busy_timeout = 0");
      s.execute("BEGIN IMMEDIATE");
      s.execute("UPDATE runs SET updated_at = updated_at");
      s.execute("COMMIT");
    }
    assertThat(store.rows()).hasSize(2);
  }

  @Test
  void aReopenedStoreHasEverythingThatWasAcknowledged() {
    String url = url("reopen.db");
    NewRun n;
    try (RunStore s = new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE)) {
      n = newRun(newId(), TENANT, Optional.empty());
      s.create(n);
    }
    try (RunStore s = new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE)) {
      assertThat(s.events(n.runId(), 0, 10)).containsExactly(n.created().envelope());
    }
  }

  @Test
  void aDatabaseMigratedByANewerKeelIsRefused() throws Exception {
    String url = url("newer.db");
    new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE).close();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
              + " checksum, installed_by, execution_time, success)"
              + " VALUES (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 0,"
              + " 'test', 1, 1)");
    }
    assertThatThrownBy(() -> new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE))
        .hasMessageContaining("schema version 99")
        .hasMessageContaining("up to " + StoreMigrations.LATEST)
        .hasMessageContaining("newer Keel");
    assertThat(Files.exists(dir.resolve("newer.db"))).isTrue();
  }

  @Test
  void schema37KeepsEveryEventAndCheckpointOfAStoreWrittenWithTheOldLayout() throws Exception {
    // Runs written by this build, copied into a file migrated only up to schema 36, where
    // run_events and run_checkpoints were WITHOUT ROWID tables; opening it migrates to 37.
    String source = url("source.db");
    NewRun n = newRun(newId(), TENANT, Optional.empty());
    List<EventEnvelope> written;
    List<Checkpoint> checkpoints;
    try (RunStore s = new SqliteRunStore(SqliteConfig.of(source), FaultInjector.NONE)) {
      s.create(n);
      Lease lease = s.claim("w1", LONG, 10).getFirst();
      RunState state = RunState.initial(n.created().envelope());
      Append started =
          appendOf(lease, state, Disposition.KEEP, Optional.empty(), new RunEvent.RunStarted());
      lease = s.append(started);
      state = started.stateAfter();
      Checkpoint first = checkpointOf(state, Hashes.GENESIS);
      Append step =
          appendOf(
              lease,
              state,
              Disposition.KEEP,
              Optional.of(first),
              new RunEvent.ModelRequested(1, "m", 100));
      s.append(step);
      written = s.events(n.runId(), 0, 100);
      checkpoints = s.checkpoints(n.runId());
    }
    assertThat(written).hasSize(3);
    assertThat(checkpoints).hasSize(1);

    String old = url("old-layout.db");
    Flyway.configure(getClass().getClassLoader())
        .dataSource(old, "", "")
        .locations(Dialect.SQLITE.migrations())
        .target("36")
        .load()
        .migrate();
    try (Connection c = DriverManager.getConnection(old);
        Statement st = c.createStatement()) {
      st.execute("ATTACH DATABASE '" + dir.resolve("source.db") + "' AS source");
      for (String table : List.of("runs", "run_events", "run_checkpoints")) {
        st.execute("INSERT INTO main." + table + " SELECT * FROM source." + table);
      }
      assertThatThrownBy(() -> st.executeQuery("SELECT rowid FROM run_events").close())
          .hasMessageContaining("rowid");
    }

    try (RunStore s = new SqliteRunStore(SqliteConfig.of(old), FaultInjector.NONE)) {
      assertThat(s.events(n.runId(), 0, 100)).isEqualTo(written);
      assertThat(s.checkpoints(n.runId())).isEqualTo(checkpoints);
      assertThat(s.load(n.runId()).checkpoint()).contains(checkpoints.getFirst());
    }
    try (Connection c = DriverManager.getConnection(old);
        Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery(
              "SELECT count(rowid), max(seq) FROM run_events WHERE run_id = '"
                  + n.runId().value()
                  + "'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(3);
        assertThat(rs.getInt(2)).isEqualTo(3);
      }
      try (ResultSet rs = st.executeQuery("SELECT count(rowid) FROM run_checkpoints")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(1);
      }
      // The primary key still refuses a second event at a taken sequence number.
      assertThatThrownBy(
              () ->
                  st.execute(
                      "INSERT INTO run_events (run_id, seq, type, data, at, epoch, hash)"
                          + " SELECT run_id, seq, type, data, at, epoch, hash FROM run_events"
                          + " WHERE seq = 2"))
          .hasMessageContaining("UNIQUE");
    }
  }
}
