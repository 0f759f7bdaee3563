package dev.keel.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;

/** Fresh databases for one test: a SQLite file, or a PostgreSQL schema dropped afterwards. */
final class Databases {
  static final String PG =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  private Databases() {}

  static String fresh(String kind) throws Exception {
    if (kind.equals("sqlite")) {
      Path dir = Files.createTempDirectory("keel-it");
      return "jdbc:sqlite:" + dir.resolve("keel.db");
    }
    String schema = "keel_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(PG);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return PG + (PG.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  static void drop(String url) throws Exception {
    if (url.startsWith("jdbc:postgresql:")) {
      String schema = url.substring(url.indexOf("currentSchema=") + 14);
      try (Connection c = DriverManager.getConnection(PG);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }
}
