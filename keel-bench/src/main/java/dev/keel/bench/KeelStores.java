package dev.keel.bench;

import dev.keel.run.FaultInjector;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.PostgresConfig;
import dev.keel.store.jdbc.PostgresRunStore;
import dev.keel.store.jdbc.SqliteConfig;
import dev.keel.store.jdbc.SqliteRunStore;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Opens Keel's SQL stores with their production defaults ({@link SqliteConfig#of}, {@link
 * PostgresConfig#of}); the one place the benchmark names the store adapters.
 */
final class KeelStores {
  private KeelStores() {}

  /** Keel's SQLite store in {@code file}: WAL, synchronous=FULL, one group committer. */
  static RunStore sqlite(Path file) {
    return new SqliteRunStore(SqliteConfig.of("jdbc:sqlite:" + file), FaultInjector.NONE);
  }

  /** Keel's PostgreSQL store at {@code url}, as the user and password in {@code props}. */
  static RunStore postgres(String url, Properties props) {
    PostgresConfig config = PostgresConfig.of(url);
    String user = props.getProperty("user");
    if (user != null) {
      config = config.withCredentials(user, props.getProperty("password", ""));
    }
    return new PostgresRunStore(config, FaultInjector.NONE);
  }
}
