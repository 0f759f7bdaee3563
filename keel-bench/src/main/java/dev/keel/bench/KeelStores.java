package dev.keel.bench;

import dev.keel.store.RunStore;
import java.nio.file.Path;
import java.util.Properties;

/** Opens Keel's SQL stores; the one place the benchmark names the store adapters. */
final class KeelStores {
  private KeelStores() {}

  /** Keel's SQLite store in {@code file}. */
  static RunStore sqlite(Path file) {
    throw new UnsupportedOperationException(
        "Keel's SQLite store (keel-store) is not wired into the benchmark yet; file " + file);
  }

  /** Keel's PostgreSQL store at {@code url}. */
  static RunStore postgres(String url, Properties props) {
    throw new UnsupportedOperationException(
        "Keel's PostgreSQL store (keel-store) is not wired into the benchmark yet; " + url);
  }
}
