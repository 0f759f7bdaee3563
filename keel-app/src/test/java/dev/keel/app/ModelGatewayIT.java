package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model gateway wired as the engine's provider: {@code keel serve} with a {@code models:}
 * section whose route falls back from a dead primary to the real aimock server (started from {@code
 * keel-models/aimock}, installed by {@code npm ci --prefix keel-models/aimock}). The demo agent
 * looks up an order through aimock's tool call and answers; the run completes with usage and cost
 * recorded, and the routing decision (route, reasons, provider and model used, attempts) is in the
 * run's events.
 */
class ModelGatewayIT {
  @TempDir Path home;
  Process aimock;
  int aimockPort;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void startAimock() throws Exception {
    Path cwd = Path.of("").toAbsolutePath();
    Path dir =
        (Files.isDirectory(cwd.resolve("keel-models")) ? cwd : cwd.getParent())
            .resolve("keel-models/aimock");
    Path bin = dir.resolve("node_modules/.bin/llmock");
    assertThat(bin)
        .as("aimock is not installed; run `npm ci --prefix keel-models/aimock` first")
        .isExecutable();
    Path fixtures = Files.createDirectories(home.resolve("fixtures"));
    Files.writeString(
        fixtures.resolve("triage.json"),
        """
        {"fixtures": [
          {"match": {"userMessage": "Check order D-7007", "hasToolResult": true},
           "response": {"toolCalls": [{"name": "keel.finish",
                                       "arguments": {"text": "Order D-7007 was delivered to Dana Example.",
                                                     "data": {"order_id": "D-7007",
                                                              "outcome": "not_refunded"}}}],
                        "usage": {"input_tokens": 120, "output_tokens": 20}}},
          {"match": {"userMessage": "Check order D-7007"},
           "response": {"toolCalls": [{"name": "orders.lookup",
                                       "arguments": {"order_id": "D-7007"}}],
                        "usage": {"input_tokens": 80, "output_tokens": 12}}}
        ]}
        """);
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      aimockPort = s.getLocalPort();
    }
    aimock =
        new ProcessBuilder(
                bin.toString(),
                "-p",
                String.valueOf(aimockPort),
                "-h",
                "127.0.0.1",
                "-f",
                fixtures.toString(),
                "--log-level",
                "warn")
            .redirectErrorStream(true)
            .redirectOutput(home.resolve("aimock.log").toFile())
            .start();
    Instant deadline = Instant.now().plusSeconds(30);
    while (true) {
      assertThat(aimock.isAlive()).as("aimock exited").isTrue();
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + aimockPort + "/health"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode()
            == 200) {
          break;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      assertThat(Instant.now()).as("aimock did not start").isBefore(deadline);
      Thread.sleep(100);
    }
  }

  @AfterEach
  void stopAimock() throws Exception {
    if (aimock != null) {
      aimock.destroy();
      if (!aimock.waitFor(5, TimeUnit.SECONDS)) {
        aimock.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  HttpResponse<String> call(String method, String url, String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(90))
            .header("Authorization", "Bearer " + token);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private Path writeConfig() throws Exception {
    Path key = home.resolve("model.key");
    Files.writeString(key, "sk-test-123\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort();
    }
    Path file = home.resolve("keel.yaml");
    Files.writeString(
        file,
        """
        home: %s
        server:
          port: 0
        models:
          providers:
            primary:
              protocol: openai-chat
              base-url: http://127.0.0.1:%d/v1
              api-key: file:%s
              connect-timeout: 500ms
            mock:
              protocol: anthropic
              base-url: http://127.0.0.1:%d
              api-key: file:%s
          models:
            big: {provider: primary, model: gpt-big, capabilities: [tools]}
            small: {provider: mock, model: claude-small, capabilities: [tools]}
          prices:
            version: "2026-11-01"
            gpt-big: {input: 5000000, output: 15000000}
            claude-small: {input: 1000000, output: 5000000}
          routes:
            default: {chain: [big, small], timeouts: 20s}
        """
            .formatted(home, dead, key, aimockPort, key));
    return file;
  }

  @Test
  void aRunCompletesThroughTheGatewayWithUsageCostAndItsRoutingRecorded() throws Exception {
    Path file = writeConfig();
    KeelConfig cfg = ConfigLoader.load(Optional.of(file), Map.of());
    try (KeelRuntime rt = KeelRuntime.serve(cfg)) {
      String token = rt.firstAdminToken().orElseThrow();
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      HttpResponse<String> created =
          call(
              "POST",
              base + "/v1/runs",
              token,
              "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Check order D-7007\"}}");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String runId =
          ((JsonObject) JsonParser.parse(created.body(), JsonLimits.TRUSTED))
              .string("id")
              .orElseThrow();
      HttpResponse<String> waited =
          call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null);
      JsonObject done = (JsonObject) JsonParser.parse(waited.body(), JsonLimits.TRUSTED);
      assertThat(done.string("status")).as(waited.body()).contains("completed");
      assertThat(waited.body()).contains("delivered to Dana Example");

      List<EventEnvelope> events = rt.store().events(RunId.of(runId), 0, Integer.MAX_VALUE);
      List<RunEvent.ModelResponded> answers =
          events.stream()
              .map(EventEnvelope::event)
              .filter(RunEvent.ModelResponded.class::isInstance)
              .map(RunEvent.ModelResponded.class::cast)
              .toList();
      assertThat(answers).hasSize(2);
      // 80 in + 12 out, then 120 in + 20 out, at claude-small's prices
      assertThat(answers.get(0).response().usage().inputTokens()).isEqualTo(80);
      assertThat(answers.get(1).response().usage().outputTokens()).isEqualTo(20);
      assertThat(answers.get(0).costMicros()).isEqualTo(80 + 60);
      assertThat(answers.get(1).costMicros()).isEqualTo(120 + 100);
      List<RunEvent.DecisionRecorded> routed =
          events.stream()
              .map(EventEnvelope::event)
              .filter(RunEvent.DecisionRecorded.class::isInstance)
              .map(RunEvent.DecisionRecorded.class::cast)
              .filter(d -> d.action().equals("model_routed"))
              .toList();
      assertThat(routed).hasSize(2);
      JsonObject first = routed.getFirst().summary();
      assertThat(first.string("route")).contains("default");
      assertThat(first.string("served_by")).contains("small");
      assertThat(first.string("provider")).contains("mock");
      assertThat(first.string("price_version")).contains("2026-11-01");
      assertThat(first.toString()).contains("primary").doesNotContain("sk-test-123");
      // the dead primary made both answers fallbacks, counted by route, primary and target used
      assertThat(first.string("primary")).contains("big");
      assertThat(first.get("fallback")).contains(dev.keel.json.JsonValue.of(true));
      assertThat(call("GET", base + "/metrics", token, null).body())
          .contains("keel_model_fallbacks_total{from=\"big\",route=\"default\",to=\"small\"} 2.0");
      JsonObject run =
          (JsonObject)
              JsonParser.parse(
                  call("GET", base + "/v1/runs/" + runId, token, null).body(), JsonLimits.TRUSTED);
      assertThat(run.toString()).contains("\"cost_usd\"");
      assertThat(events.toString()).doesNotContain("sk-test-123");
    }
  }

  @Test
  void keelServeAsAProcessRunsTheAgentThroughTheGateway() throws Exception {
    Path file = writeConfig();
    int port = ChildKeel.freePort();
    String base = "http://127.0.0.1:" + port;
    try (ChildKeel keel =
        new ChildKeel(
            home,
            Map.of("KEEL_HOME", home.resolve("child").toString(), "KEEL_CONFIG", file.toString()),
            List.of(),
            List.of("serve", "--port", Integer.toString(port)))) {
      keel.awaitLine("Admin API key", Duration.ofSeconds(60));
      String token = keel.nextLine(Duration.ofSeconds(5)).strip();
      ChildKeel.awaitReady(base, Duration.ofSeconds(30));
      HttpResponse<String> created =
          call(
              "POST",
              base + "/v1/runs",
              token,
              "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Check order D-7007\"}}");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String runId =
          ((JsonObject) JsonParser.parse(created.body(), JsonLimits.TRUSTED))
              .string("id")
              .orElseThrow();
      HttpResponse<String> waited =
          call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null);
      assertThat(waited.body()).contains("\"completed\"").contains("delivered to Dana Example");
      String events = call("GET", base + "/v1/runs/" + runId + "/events", token, null).body();
      assertThat(events)
          .contains("\"model_routed\"")
          .contains("\"served_by\":\"small\"")
          .contains("\"cost_micros\":140")
          .contains("\"cost_micros\":220")
          .doesNotContain("sk-test-123");
    }
  }
}
