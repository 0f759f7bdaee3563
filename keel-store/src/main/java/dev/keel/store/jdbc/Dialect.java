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

  /**
   * The fence's test that the run row found by its id is leased to the writer ({@code column}
   * equals a parameter, never NULL). On PostgreSQL it is written so that no index can serve it:
   * with {@code =}, a plan made while the statistics said no run was leased (a generic plan is
   * cached for the life of the connection) found the row through the {@code lease_owner} index and
   * filtered every run the worker leased, 0.7 ms per append with 1,000 runs on one worker, instead
   * of going through the primary key (decision 0060).
   */
  String leasedTo(String column) {
    return this == POSTGRES ? column + " IS NOT DISTINCT FROM ?" : column + " = ?";
  }

  /** The Flyway location of this database's migrations. */
  String migrations() {
    return "classpath:db/migration/" + migrationFolder;
  }
}
