package dev.keel.store.jdbc;

import java.time.Duration;
import java.util.Objects;

/**
 * How to open a SQLite store.
 *
 * @param url {@code jdbc:sqlite:<file>}; an in-memory database is refused, it could not be shared
 *     by the writer and the readers
 * @param readers how many read connections (WAL readers) to keep
 * @param busyTimeout how long a statement waits for another process's write lock
 * @param synchronous {@code FULL} (the default: a commit survives power loss) or {@code NORMAL} (an
 *     explicit opt-in that survives process crashes only)
 * @param maxBatch most writes in one group commit
 */
public record SqliteConfig(
    String url, int readers, Duration busyTimeout, Synchronous synchronous, int maxBatch) {

  /** SQLite's {@code synchronous} setting in WAL mode. */
  public enum Synchronous {
    /** fsync on every commit. */
    FULL,
    /** fsync at checkpoints only; a power loss may lose the newest commits. */
    NORMAL
  }

  /** Checks the fields, naming the bad one. */
  public SqliteConfig {
    Objects.requireNonNull(url, "url");
    if (!url.startsWith("jdbc:sqlite:")) {
      throw new IllegalArgumentException(
          "store.url must start with jdbc:sqlite: for SQLite, got '" + url + "'");
    }
    String file = url.substring("jdbc:sqlite:".length());
    if (file.isBlank() || file.contains(":memory:") || file.contains("mode=memory")) {
      throw new IllegalArgumentException(
          "store.url '" + url + "' must name a file; in-memory SQLite is not supported");
    }
    if (readers < 1) {
      throw new IllegalArgumentException("store.sqlite.readers must be at least 1, got " + readers);
    }
    Objects.requireNonNull(busyTimeout, "busyTimeout");
    if (busyTimeout.isNegative()) {
      throw new IllegalArgumentException("store.sqlite.busy-timeout must not be negative");
    }
    Objects.requireNonNull(synchronous, "synchronous");
    if (maxBatch < 1) {
      throw new IllegalArgumentException("store.max-batch must be at least 1, got " + maxBatch);
    }
  }

  /** The defaults for {@code url}: 4 readers, 5 s busy timeout, FULL, batches of 256. */
  public static SqliteConfig of(String url) {
    return new SqliteConfig(url, 4, Duration.ofSeconds(5), Synchronous.FULL, 256);
  }
}
