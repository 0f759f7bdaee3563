package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.store.jdbc.JdbcCostLedger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code budgets.tenants} wired through {@code keel serve}: a tenant whose shared budget cannot
 * cover the demo agent's first model call gets its run stopped with {@code tenant_cost_usd} before
 * any model call; the budget is in the store and nothing stays reserved.
 */
class TenantBudgetIT {
  @TempDir Path home;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aRunStopsWhenItsTenantsSharedBudgetCannotCoverTheNextCall() throws Exception {
    Path file = home.resolve("keel.yaml");
    Files.writeString(
        file,
        """
        home: %s
        server:
          port: 0
        budgets:
          tenants:
            default: 0.0001
        """
            .formatted(home));
    KeelConfig cfg = ConfigLoader.load(Optional.of(file), Map.of());
    try (KeelRuntime rt = KeelRuntime.serve(cfg)) {
      String token = rt.firstAdminToken().orElseThrow();
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      HttpResponse<String> created =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/runs"))
                  .header("Authorization", "Bearer " + token)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Refund G-1\"}}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String id =
          ((JsonObject) JsonParser.parse(created.body(), JsonLimits.TRUSTED))
              .string("id")
              .orElseThrow();
      HttpResponse<String> done =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + id + "/wait?timeout_s=60"))
                  .header("Authorization", "Bearer " + token)
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(done.body()).contains("timed_out").contains("tenant_cost_usd");
    }
    try (JdbcCostLedger ledger =
        new JdbcCostLedger(cfg.storeUrl(), "", "", InstantSource.system())) {
      JdbcCostLedger.Budget b = ledger.budget("default").orElseThrow();
      assertThat(b.limitMicros()).isEqualTo(100);
      assertThat(b.reservedMicros()).isZero();
      assertThat(b.spentMicros()).isZero();
    }
  }
}
