package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.observe.OtlpReceiver;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The process wiring: {@code telemetry.otlp_endpoint} (here by its environment variable) makes a
 * served run export GenAI spans and, every {@code telemetry.otlp_metrics_interval}, the engine's
 * metrics and the HTTP server's to a real OTLP receiver, and {@code /metrics} carries the same
 * metrics from the same registry.
 */
class TelemetryWiringTest {
  @Test
  void aServedRunIsTracedAndMetered() throws Exception {
    Path home = Files.createTempDirectory("keel-wiring");
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      KeelConfig cfg =
          ConfigLoader.load(
              Optional.empty(),
              Map.of(
                  "KEEL_HOME",
                  home.toString(),
                  "KEEL_SERVER_PORT",
                  "0",
                  "KEEL_TELEMETRY_OTLP_ENDPOINT",
                  receiver.endpoint(),
                  "KEEL_TELEMETRY_OTLP_METRICS_INTERVAL",
                  "1s"));
      assertThat(cfg.otlpEndpoint()).isEqualTo(receiver.endpoint());
      assertThat(cfg.otlpMetricsInterval()).isEqualTo(Duration.ofSeconds(1));
      String metrics;
      String runId;
      try (KeelRuntime rt = KeelRuntime.serve(cfg)) {
        String token = rt.firstAdminToken().orElseThrow();
        String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> created =
            http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/runs"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .header("X-Request-Id", "req-wiring-1")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Where is order"
                                + " A-1001?\"}}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.headers().firstValue("X-Request-Id")).contains("req-wiring-1");
        runId = created.body().replaceAll("(?s).*\"id\":\"(run_[a-z0-9]+)\".*", "$1");
        HttpResponse<String> waited =
            http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + runId + "/wait"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"timeout_s\":20}"))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(waited.statusCode()).isEqualTo(200);
        metrics =
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/metrics"))
                        .header("Authorization", "Bearer " + token)
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        // The periodic push delivers the run's execution while the process still runs.
        java.time.Instant deadline = java.time.Instant.now().plusSeconds(60);
        Map<String, String> first = Map.of("agent", "support-triage", "kind", "first");
        while (receiver.latestSum("keel.executions.started", first).isEmpty()) {
          assertThat(java.time.Instant.now())
              .as("no keel.executions.started pushed; got %s", receiver.metricNames())
              .isBefore(deadline);
          Thread.sleep(50);
        }
        assertThat(receiver.latestSum("keel.executions.started", first)).hasValue(1.0);
        assertThat(receiver.latestHistogramCount("keel.model.call", Map.of())).isPresent();
        // The HTTP server's meters travel with the engine's: the create, its latency, run counts.
        Map<String, String> create = Map.of("method", "POST", "route", "/v1/runs", "status", "201");
        String status =
            ((dev.keel.json.JsonValue.JsonObject) dev.keel.json.JsonParser.parse(waited.body()))
                .string("status")
                .orElseThrow();
        Map<String, String> done = Map.of("status", status);
        assertThat(metrics).contains("keel_runs{status=\"" + status + "\"} 1.0");
        while (receiver.latestSum("keel.http.requests", create).isEmpty()
            || receiver.latestGauge("keel.runs", done).orElse(0) < 1) {
          assertThat(java.time.Instant.now())
              .as("no HTTP meters pushed; got %s", receiver.metricNames())
              .isBefore(deadline);
          Thread.sleep(50);
        }
        assertThat(receiver.latestSum("keel.http.requests", create)).hasValue(1.0);
        assertThat(receiver.latestHistogramCount("keel.http.request", create)).hasValue(1);
        assertThat(receiver.latestGauge("keel.runs", done)).hasValue(1.0);
        assertThat(receiver.latestGauge("keel.sse.streams.open", Map.of())).hasValue(0.0);
      }
      // Closing the runtime flushed the spans.
      assertThat(metrics)
          .contains(
              "keel_http_requests_total{method=\"POST\",route=\"/v1/runs\",status=\"201\"} 1.0")
          .contains("keel_http_request_seconds_bucket{method=\"POST\",route=\"/v1/runs\"")
          .contains("keel_sse_streams_open 0.0")
          .contains("keel_executions_started_total{agent=\"support-triage\",kind=\"first\"}")
          .contains("keel_model_call_seconds_bucket");
      // One registry renders them: the server adds no hand-written copy of its own.
      assertThat(metrics.split("# TYPE keel_http_requests_total ", -1)).hasSize(2);
      assertThat(metrics.split("# TYPE keel_runs ", -1)).hasSize(2);
      assertThat(receiver.named("invoke_agent support-triage")).isNotEmpty();
      assertThat(receiver.named("chat ")).isNotEmpty();
      String trace = dev.keel.observe.RunTraceIds.of(runId);
      for (Span s : receiver.spans) {
        assertThat(java.util.HexFormat.of().formatHex(s.getTraceId().toByteArray()))
            .isEqualTo(trace);
      }
    }
  }
}
