package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The synthetic probe: completed probe runs are counted; with no worker, /readyz fails. */
class SyntheticProbeTest {
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void probeRunsCompleteAndReadyzStaysUp() throws Exception {
    try (KeelRuntime rt = KeelRuntime.serve(config("1"))) {
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      String token = rt.firstAdminToken().orElseThrow();
      String metrics = "";
      for (int i = 0;
          i < 100 && !metrics.contains("keel_probe_runs_total{outcome=\"completed\"}");
          i++) {
        Thread.sleep(100);
        metrics = get(base + "/metrics", token).body();
      }
      assertThat(metrics)
          .contains("keel_probe_runs_total{outcome=\"completed\"}")
          .contains("keel_probe_overdue 0.0")
          .doesNotContain("outcome=\"overdue\"");
      assertThat(get(base + "/readyz", null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void withNoWorkerTheProbeMakesReadyzFail() throws Exception {
    try (KeelRuntime rt = KeelRuntime.serve(config("0"))) {
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      HttpResponse<String> r = get(base + "/readyz", null);
      for (int i = 0; i < 150 && r.statusCode() == 200; i++) {
        Thread.sleep(100);
        r = get(base + "/readyz", null);
      }
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("synthetic probe run").contains("no worker is advancing runs");
      // The metrics say so too: the gauge at once, the counter once the probe's next tick saw it.
      String token = rt.firstAdminToken().orElseThrow();
      String metrics = get(base + "/metrics", token).body();
      for (int i = 0; i < 50 && !metrics.contains("outcome=\"overdue\""); i++) {
        Thread.sleep(100);
        metrics = get(base + "/metrics", token).body();
      }
      assertThat(metrics)
          .contains("keel_probe_overdue 1.0")
          .contains("keel_probe_runs_total{outcome=\"overdue\"} 1.0");
    }
  }

  private static KeelConfig config(String workers) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_HOME", Files.createTempDirectory("keel-probe").toString());
    env.put("KEEL_SERVER_PORT", "0");
    env.put("KEEL_ENGINE_WORKERS", workers);
    env.put("KEEL_ENGINE_LEASE_TIME", "1s");
    env.put("KEEL_PROBE_INTERVAL", "200ms");
    return ConfigLoader.load(Optional.empty(), env);
  }

  private HttpResponse<String> get(String url, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
