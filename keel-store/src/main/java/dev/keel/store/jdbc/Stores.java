package dev.keel.store.jdbc;

import dev.keel.run.FaultInjector;
import dev.keel.store.RunStore;

/** Opens the store a JDBC URL names, with the defaults of its database. */
public final class Stores {
  private Stores() {}

  /**
   * Opens a SQLite store for {@code jdbc:sqlite:<file>} or a PostgreSQL store for {@code
   * jdbc:postgresql://...} (user and password as URL parameters), migrating its schema first.
   */
  public static RunStore open(String url, FaultInjector faults) {
    return switch (dialectOf(url)) {
      case SQLITE -> new SqliteRunStore(SqliteConfig.of(url), faults);
      case POSTGRES -> new PostgresRunStore(PostgresConfig.of(url), faults);
    };
  }

  static Dialect dialectOf(String url) {
    if (url.startsWith("jdbc:sqlite:")) {
      return Dialect.SQLITE;
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return Dialect.POSTGRES;
    }
    throw new IllegalArgumentException(
        "store.url '"
            + StoreMigrations.redact(url)
            + "' is neither jdbc:sqlite:<file> nor jdbc:postgresql://<host>/<database>");
  }
}
