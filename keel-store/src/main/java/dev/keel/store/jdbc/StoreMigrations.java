package dev.keel.store.jdbc;

import dev.keel.store.StoreException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
  /**
   * The newest schema version this build knows: the highest {@code V<n>__} in both migration
   * folders (a test checks they agree). Keel's migration versions are whole numbers.
   */
  public static final int LATEST = 37;

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

  /**
   * Migrates the store behind {@code dataSource} unless its schema is already at {@link #LATEST},
   * which is found with one query instead of a Flyway scan, so opening a current store is quick.
   */
  static Result ensure(DataSource dataSource, Dialect dialect, String where) {
    Optional<Integer> applied;
    try (Connection c = dataSource.getConnection()) {
      applied = appliedVersion(c);
    } catch (SQLException e) {
      throw SqlErrors.wrap("reading the schema version of the store at " + where, e);
    }
    String database = dialect == Dialect.SQLITE ? "sqlite" : "postgresql";
    if (applied.isPresent() && applied.get() == LATEST) {
      return new Result(database, Optional.of(String.valueOf(LATEST)), String.valueOf(LATEST), 0);
    }
    if (applied.isPresent() && applied.get() > LATEST) {
      throw newer(where, String.valueOf(applied.get()), String.valueOf(LATEST));
    }
    return migrate(dataSource, dialect, where);
  }

  /** The highest successfully applied version, or empty if there is no history or it failed. */
  private static Optional<Integer> appliedVersion(Connection c) {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT version, success FROM flyway_schema_history WHERE version IS NOT NULL")) {
      int max = 0;
      while (rs.next()) {
        String v = rs.getString(1);
        if (!rs.getBoolean(2) || !v.matches("[0-9]{1,9}")) {
          return Optional.empty(); // a failed or foreign migration: let Flyway report it
        }
        max = Math.max(max, Integer.parseInt(v));
      }
      return max == 0 ? Optional.empty() : Optional.of(max);
    } catch (SQLException e) {
      return Optional.empty(); // no history table yet
    }
  }

  private static StoreException newer(String where, String found, String known) {
    return new StoreException(
        "the store at "
            + where
            + " has schema version "
            + found
            + ", but this Keel build knows schema versions up to "
            + known
            + ". It was migrated by a newer Keel: run that newer Keel (or restore a backup"
            + " taken before the upgrade); this build will not write to it.",
        false);
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
          throw newer(where, m.getVersion() + " (" + m.getDescription() + ")", newestKnown(flyway));
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
