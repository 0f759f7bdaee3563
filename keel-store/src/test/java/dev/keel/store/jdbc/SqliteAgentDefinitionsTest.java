package dev.keel.store.jdbc;

import dev.keel.run.FaultInjector;
import dev.keel.store.AgentDefinitions;
import dev.keel.testkit.store.AgentDefinitionsContract;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The agent definitions contract on a real SQLite file migrated by the run store. */
class SqliteAgentDefinitionsTest extends AgentDefinitionsContract {
  @TempDir static Path dir;
  private static SideDb db;

  @BeforeAll
  static void open() {
    String url = "jdbc:sqlite:" + dir.resolve("keel.db");
    new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE).close();
    db = SideDb.open(url, "", "", 2);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Override
  protected AgentDefinitions newDefinitions() {
    return new JdbcAgentDefinitions(db, InstantSource.system());
  }
}
