package dev.keel.store.jdbc;

/** What differs in SQL between the two databases; everything else is shared. */
enum Dialect {
  /** SQLite 3.42 or newer (for {@code unixepoch('subsec')}). */
  SQLITE("CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER)", "?", "sqlite"),
  /** PostgreSQL 13 or newer. {@code clock_timestamp()}, not {@code now()}: the latter is frozen. */
  POSTGRES(
      "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
      "CAST(? AS jsonb)",
      "postgresql");

  private final String now;
  private final String jsonParam;
  private final String migrationFolder;

  Dialect(String now, String jsonParam, String migrationFolder) {
    this.now = now;
    this.jsonParam = jsonParam;
    this.migrationFolder = migrationFolder;
  }

  /** An SQL expression for the store's clock, in epoch milliseconds. */
  String now() {
    return now;
  }

  /** A parameter placeholder for a JSON column of the run row. */
  String jsonParam() {
    return jsonParam;
  }

  /** The Flyway location of this database's migrations. */
  String migrations() {
    return "classpath:db/migration/" + migrationFolder;
  }
}
