package dev.keel.store.jdbc;

import dev.keel.store.StoreException;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Brings a store's schema up to the version this build knows, with Flyway. The stores call it when
 * they open; {@code keel migrate} calls it on its own. A database whose schema is newer than this
 * build knows (it was migrated by a newer Keel) is refused, never written to.
 */
public final class StoreMigrations {
  private StoreMigrations() {}

  /**
   * What a migration did.
   *
   * @param database {@code sqlite} or {@code postgresql}
   * @param from the schema version before, if the database had one
   * @param to the schema version after
   * @param applied how many migrations ran
   */
  public record Result(String database, Optional<String> from, String to, int applied) {
    /** Checks the fields are present. */
    public Result {
      Objects.requireNonNull(database, "database");
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
    }
  }

  /**
   * Migrates the database at {@code url} ({@code jdbc:sqlite:...} or {@code jdbc:postgresql:...}).
   *
   * @throws StoreException if the database cannot be reached, a migration fails, or its schema is
   *     newer than this build knows
   */
  public static Result migrate(String url, String user, String password) {
    Dialect dialect = Stores.dialectOf(url);
    Flyway flyway =
        Flyway.configure(StoreMigrations.class.getClassLoader())
            .dataSource(url, user, password)
            .locations(dialect.migrations())
            .load();
    return migrate(flyway, dialect, redact(url));
  }

  static Result migrate(DataSource dataSource, Dialect dialect, String where) {
    Flyway flyway =
        Flyway.configure(StoreMigrations.class.getClassLoader())
            .dataSource(dataSource)
            .locations(dialect.migrations())
            .load();
    return migrate(flyway, dialect, where);
  }

  private static Result migrate(Flyway flyway, Dialect dialect, String where) {
    try {
      String known = "none";
      for (MigrationInfo m : flyway.info().all()) {
        if (m.getState() == MigrationState.FUTURE_SUCCESS
            || m.getState() == MigrationState.FUTURE_FAILED) {
          throw new StoreException(
              "the store at "
                  + where
                  + " has schema version "
                  + m.getVersion()
                  + " ("
                  + m.getDescription()
                  + "), but this Keel build knows schema versions up to "
                  + newestKnown(flyway)
                  + ". It was migrated by a newer Keel: run that newer Keel (or restore a backup"
                  + " taken before the upgrade); this build will not write to it.",
              false);
        }
        known = String.valueOf(m.getVersion());
      }
      MigrateResult r = flyway.migrate();
      return new Result(
          dialect == Dialect.SQLITE ? "sqlite" : "postgresql",
          Optional.ofNullable(r.initialSchemaVersion),
          r.targetSchemaVersion != null
              ? r.targetSchemaVersion
              : Optional.ofNullable(flyway.info().current())
                  .map(m -> String.valueOf(m.getVersion()))
                  .orElse(known),
          r.migrationsExecuted);
    } catch (FlywayException e) {
      throw new StoreException(
          "migrating the store at " + where + " failed: " + e.getMessage(), false, e);
    }
  }

  private static String newestKnown(Flyway flyway) {
    String newest = "none";
    for (MigrationInfo m : flyway.info().all()) {
      if (m.getState() != MigrationState.FUTURE_SUCCESS
          && m.getState() != MigrationState.FUTURE_FAILED
          && m.getVersion() != null) {
        newest = m.getVersion().getVersion();
      }
    }
    return newest;
  }

  /** The URL without a password parameter, for messages. */
  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }
}
