package dev.keel.store.jdbc;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to open a PostgreSQL store.
 *
 * @param url {@code jdbc:postgresql://host:port/database}, optionally with {@code currentSchema}
 * @param user the user, or empty to take it from the URL
 * @param password the password, or empty
 * @param poolSize most pooled connections (readers, claims and committers share them)
 * @param committers how many group committers (each uses one connection while it commits); the
 *     writes of one run always go to the same committer
 * @param maxBatch most writes in one group commit
 * @param channel the LISTEN/NOTIFY channel that wakes workers
 * @param appUser the role the store works as once migrated ({@code store.app-user}), or empty to
 *     work as {@code user}; it must not own the tables nor bypass row-level security (see
 *     docs/decisions/0043-postgres-row-level-security.md)
 * @param appPassword its password, or empty
 */
public record PostgresConfig(
    String url,
    String user,
    String password,
    int poolSize,
    int committers,
    int maxBatch,
    String channel,
    String appUser,
    String appPassword) {

  private static final Pattern CHANNEL = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** Checks the fields, naming the bad one. */
  public PostgresConfig {
    Objects.requireNonNull(url, "url");
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "store.url must start with jdbc:postgresql: for PostgreSQL, got '"
              + StoreMigrations.redact(url)
              + "'");
    }
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    if (committers < 1) {
      throw new IllegalArgumentException(
          "store.postgres.committers must be at least 1, got " + committers);
    }
    if (poolSize < committers + 1) {
      throw new IllegalArgumentException(
          "store.postgres.pool-size must exceed committers ("
              + committers
              + ") so reads and claims get a connection, got "
              + poolSize);
    }
    if (maxBatch < 1) {
      throw new IllegalArgumentException("store.max-batch must be at least 1, got " + maxBatch);
    }
    Objects.requireNonNull(channel, "channel");
    if (!CHANNEL.matcher(channel).matches()) {
      throw new IllegalArgumentException(
          "store.postgres.channel must be a lower-case SQL identifier, got '" + channel + "'");
    }
    Objects.requireNonNull(appUser, "appUser");
    Objects.requireNonNull(appPassword, "appPassword");
  }

  /** The defaults for {@code url}: pool of 12, 4 committers, batches of 256, channel keel_work. */
  public static PostgresConfig of(String url) {
    return new PostgresConfig(url, "", "", 12, 4, 256, "keel_work", "", "");
  }

  /** The same with a user and password. */
  public PostgresConfig withCredentials(String user, String password) {
    return new PostgresConfig(
        url, user, password, poolSize, committers, maxBatch, channel, appUser, appPassword);
  }

  /**
   * The same, working as {@code appUser} after migrating as {@link #user}: the application role of
   * docs/decisions/0043 ({@code store.app-user}, {@code store.app-password}). Empty keeps working
   * as {@link #user}.
   */
  public PostgresConfig withApplicationRole(String appUser, String appPassword) {
    return new PostgresConfig(
        url, user, password, poolSize, committers, maxBatch, channel, appUser, appPassword);
  }

  /** Whether the store works as a separate application role. */
  public boolean separateApplicationRole() {
    return !appUser.isEmpty();
  }
}
