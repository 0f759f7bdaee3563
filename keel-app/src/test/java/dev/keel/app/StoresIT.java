package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The wired runtime over HTTP on SQLite and on PostgreSQL ({@code PG_URL}, default {@code
 * jdbc:postgresql://127.0.0.1:5432/test?user=postgres}; a fresh schema per test): readiness, API
 * keys in the store's database, idempotent creation and approvals end to end.
 */
class StoresIT {
  @TempDir Path home;
  final HttpClient http = HttpClient.newHttpClient();

  static String pgUrl() throws Exception {
    String base =
        Optional.ofNullable(System.getenv("PG_URL"))
            .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    String schema =
        "keel_app_it_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    try (Connection c = DriverManager.getConnection(base);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  HttpResponse<String> call(String method, String url, String token, String body, String idem)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (idem != null) {
      b.header("Idempotency-Key", idem);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject json(HttpResponse<String> r) {
    return (JsonObject) JsonParser.parse(r.body(), JsonLimits.TRUSTED);
  }

  /** The login {@code postgresql-app-role} runs as: a member of keel_app only. */
  static final String APP_LOGIN = "keel_app_it_" + ProcessHandle.current().pid();

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql", "postgresql-app-role"})
  void runsAreCreatedOnceAndApprovalsFinishThem(String db) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_HOME", home.toString());
    env.put("KEEL_SERVER_PORT", "0");
    env.put("KEEL_QUOTAS_RUNS_PER_DAY", "100");
    env.put("KEEL_QUOTAS_CONCURRENT_RUNS_PER_USER", "10");
    String ownerUrl = "";
    if (db.equals("postgresql")) {
      env.put("KEEL_STORE_URL", pgUrl());
    }
    if (db.equals("postgresql-app-role")) {
      // Migrated by the owner (the schema's creator); Keel then works as a keel_app member under
      // row-level security (docs/decisions/0043), with no user in the URL.
      ownerUrl = pgUrl();
      String owner = ownerUrl.replaceAll(".*[?&]user=([^&]*).*", "$1");
      dev.keel.store.jdbc.StoreMigrations.migrate(ownerUrl, owner, "");
      try (Connection c = DriverManager.getConnection(ownerUrl);
          Statement s = c.createStatement()) {
        s.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '"
                + APP_LOGIN
                + "') THEN CREATE ROLE "
                + APP_LOGIN
                + " LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE keel_app; END IF; END $$");
      }
      String schema = ownerUrl.substring(ownerUrl.indexOf("currentSchema="));
      env.put("KEEL_STORE_URL", ownerUrl.split("\\?", 2)[0] + "?" + schema);
      env.put("KEEL_STORE_USER", owner);
      env.put("KEEL_STORE_APP_USER", APP_LOGIN);
    }
    KeelConfig cfg = ConfigLoader.load(Optional.empty(), env);
    try (KeelRuntime rt = KeelRuntime.serve(cfg)) {
      String token = rt.firstAdminToken().orElseThrow();
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
      String body = "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Refund order E-5005\"}}";
      HttpResponse<String> first = call("POST", base + "/v1/runs", token, body, "k-1");
      assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
      String runId = json(first).string("id").orElseThrow();
      assertThat(json(call("POST", base + "/v1/runs", token, body, "k-1")).string("id"))
          .contains(runId);
      assertThat(
              call("POST", base + "/v1/runs", token, body.replace("E-5005", "F-6"), "k-1")
                  .statusCode())
          .isEqualTo(409);

      JsonObject waiting =
          json(call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null, null));
      assertThat(waiting.string("status")).contains("waiting");
      String approval =
          ((JsonValue.JsonString)
                  ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow())
                      .items()
                      .getFirst())
              .value();
      assertThat(
              call("POST", base + "/v1/approvals/" + approval + "/approve", token, "{}", null)
                  .statusCode())
          .isEqualTo(200);
      JsonObject done =
          json(call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null, null));
      assertThat(done.string("status")).contains("completed");
      assertThat(done.get("output").orElseThrow().toString()).contains("E-5005");
      assertThat(rt.keys().all()).hasSize(1);
      assertThat(call("GET", base + "/v1/runs", "keel_bad_key", null, null).statusCode())
          .isEqualTo(401);
    }
    try (KeelRuntime again = KeelRuntime.serve(cfg)) {
      assertThat(again.firstAdminToken()).isEmpty();
      assertThat(again.store().rows()).hasSize(1);
    }
    if (db.startsWith("postgresql")) {
      String url = ownerUrl.isEmpty() ? cfg.storeUrl() : ownerUrl;
      String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
      try (Connection c = DriverManager.getConnection(url);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA " + schema + " CASCADE");
        if (!ownerUrl.isEmpty()) {
          s.execute("DROP ROLE IF EXISTS " + APP_LOGIN);
        }
      }
    }
  }
}
