package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.observe.JsonLineLayout;
import dev.keel.observe.LogRedaction;
import dev.keel.observe.OtlpReceiver;
import dev.keel.observe.Telemetry;
import dev.keel.redact.Redaction;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.server.ApiServer;
import dev.keel.server.ServerConfig;
import dev.keel.server.auth.InMemoryApiKeys;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * SC-01/SC-05: canary secrets passed in a run's input, returned by a tool, thrown in a tool's
 * error, sent in a message to the waiting run, in an approver's comment and in a bad request are
 * searched for in the store file (SQLite) or a pg_dump of the schema (PostgreSQL), the captured
 * logs, the OTLP trace exports, an SSE capture and every HTTP response: zero occurrences.
 */
class CanarySecretEndToEndTest {
  static final String PATTERN_CANARY =
      "sk-proj-" + UUID.randomUUID().toString().replace("-", "") + "T3BlbkFJcanary";
  static final String KNOWN_CANARY = "canary-" + UUID.randomUUID();

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgres"})
  void canariesAppearNowhere(String kind) throws Exception {
    Path dir = Files.createTempDirectory("keel-canary");
    String schema = "keel_canary_" + Long.toHexString(System.nanoTime());
    String pgBase =
        Optional.ofNullable(System.getenv("PG_URL"))
            .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    RunStore store;
    if (kind.equals("sqlite")) {
      store = Stores.open("jdbc:sqlite:" + dir.resolve("keel.db"), FaultInjector.NONE);
    } else {
      try (Connection c = DriverManager.getConnection(pgBase);
          Statement st = c.createStatement()) {
        st.execute("CREATE SCHEMA " + schema);
      }
      store =
          Stores.open(
              pgBase + (pgBase.contains("?") ? "&" : "?") + "currentSchema=" + schema,
              FaultInjector.NONE);
    }
    Redaction redaction = Redaction.secrets();
    redaction.addSecret(KNOWN_CANARY);
    LogRedaction.install(redaction);
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    OutputStreamAppender<ILoggingEvent> appender = captureLogs(logs);
    List<String> http = new ArrayList<>();
    try (OtlpReceiver receiver = new OtlpReceiver();
        Telemetry telemetry =
            Telemetry.create(Optional.of(receiver.endpoint()), "keel-canary", redaction)) {
      Engine engine =
          Engine.of(
                  store,
                  AgentCatalog.of(List.of(agent())),
                  ScriptedModel.of(
                      (request, step) ->
                          switch (step) {
                            case 1 ->
                                ScriptedModel.calls(
                                    ScriptedModel.call(
                                        "c1", "vault.read", JsonValue.object("name", "prod")));
                            case 2 ->
                                ScriptedModel.calls(
                                    ScriptedModel.call(
                                        "c2", "vault.fail", JsonValue.object("name", "prod")));
                            case 3 ->
                                ScriptedModel.calls(
                                    ScriptedModel.call(
                                        "c3", "vault.rotate", JsonValue.object("name", "prod")));
                            default -> ScriptedModel.text("done");
                          }),
                  m -> new Pricing(1_000_000, 2_000_000, 0),
                  new ToolRegistry(List.of(readTool(), failTool(), rotateTool())),
                  ToolPolicy.byRiskLevel(),
                  InstantSource.system(),
                  IdSource.random(),
                  FaultInjector.NONE,
                  EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(5)).withCheckpointEvery(1))
              .withRedaction(redaction)
              .withObserver(telemetry.observer());
      InMemoryApiKeys keys = new InMemoryApiKeys();
      String token = KeyTokens.issue(keys, "acme", Role.ADMIN, Set.of(), Instant.now()).token();
      try (RunWorker worker = new RunWorker(engine, "w-canary", Throwable::printStackTrace);
          ApiServer server =
              new ApiServer(
                      engine,
                      keys,
                      ServerConfig.DEFAULT.withPort(0).withRates(1000, 1000, 1000, 1000),
                      Optional::empty)
                  .withMetrics(telemetry::scrape)
                  .start()) {
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + server.port();
        HttpResponse<String> created =
            send(
                client,
                base,
                token,
                "POST",
                "/v1/runs",
                "{\"agent\":\"vault-bot\",\"input\":{\"goal\":\"use "
                    + PATTERN_CANARY
                    + " and "
                    + KNOWN_CANARY
                    + "\"},\"metadata\":{\"password\":\"hunter2hunter2\",\"note\":\""
                    + KNOWN_CANARY
                    + "\"}}",
                http);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String runId =
            ((JsonValue.JsonString)
                    ((JsonValue.JsonObject) dev.keel.json.JsonParser.parse(created.body()))
                        .get("id")
                        .orElseThrow())
                .value();
        HttpResponse<String> waited =
            send(
                client,
                base,
                token,
                "POST",
                "/v1/runs/" + runId + "/wait",
                "{\"timeout_s\":20}",
                http);
        assertThat(waited.body()).contains("waiting");
        // While it waits for the approval of vault.rotate: a message and the approver's comment.
        HttpResponse<String> message =
            send(
                client,
                base,
                token,
                "POST",
                "/v1/runs/" + runId + "/messages",
                "{\"content\":\"also try " + KNOWN_CANARY + "\"}",
                http);
        assertThat(message.statusCode()).as(message.body()).isEqualTo(202);
        String approvals = send(client, base, token, "GET", "/v1/approvals", null, http).body();
        String approvalId = approvals.replaceAll("(?s).*\"id\":\"(apr_[A-Za-z0-9_]+)\".*", "$1");
        HttpResponse<String> approved =
            send(
                client,
                base,
                token,
                "POST",
                "/v1/approvals/" + approvalId + "/approve",
                "{\"comment\":\"ok, the new key is " + PATTERN_CANARY + "\"}",
                http);
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        waited =
            send(
                client,
                base,
                token,
                "POST",
                "/v1/runs/" + runId + "/wait",
                "{\"timeout_s\":20}",
                http);
        assertThat(waited.body()).contains("completed");
        // A bad request naming the canary answers with a problem that does not echo it.
        HttpResponse<String> bad =
            send(
                client,
                base,
                token,
                "POST",
                "/v1/runs",
                "{\"agent\":\"" + PATTERN_CANARY + "\",\"input\":{\"goal\":\"x\"}}",
                http);
        assertThat(bad.statusCode()).isBetween(400, 499);
        assertThat(bad.body()).contains("[REDACTED]");
        send(client, base, token, "GET", "/v1/runs/" + runId, null, http);
        send(client, base, token, "GET", "/v1/runs/" + runId + "/events", null, http);
        send(client, base, token, "GET", "/metrics", null, http);
        HttpResponse<String> sse =
            client.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + runId + "/events"))
                    .header("Authorization", "Bearer " + token)
                    .header("Accept", "text/event-stream")
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(sse.body())
            .contains("tool.succeeded")
            .contains("message.received")
            .contains("approval.resolved")
            .contains("run.completed");
        http.add(sse.body());
        // The engine's own log lines and an application log line naming the canary.
        LoggerFactory.getLogger("dev.keel.test")
            .warn("provider rejected key {} for run {}", PATTERN_CANARY, runId);
        LoggerFactory.getLogger("dev.keel.test")
            .error("tool failed", new IllegalStateException("secret " + KNOWN_CANARY));
        telemetry.flush(Duration.ofSeconds(10));
      }
      assertThat(receiver.spans).isNotEmpty();
      List<String> places = new ArrayList<>();
      // 1. the store
      if (kind.equals("sqlite")) {
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.toList()) {
            places.add(
                "file "
                    + f.getFileName()
                    + ": "
                    + Files.readString(f, StandardCharsets.ISO_8859_1));
          }
        }
      } else {
        store.close();
        places.add("pg_dump: " + pgDump(schema));
      }
      // 2. logs, 3. traces, 4. SSE and HTTP responses
      appender.stop();
      String logText = logs.toString(StandardCharsets.UTF_8);
      assertThat(logText).contains("provider rejected key [REDACTED]");
      places.add("logs: " + logText);
      for (byte[] b : receiver.bodies) {
        places.add("otlp: " + new String(b, StandardCharsets.ISO_8859_1));
      }
      http.forEach(h -> places.add("http: " + h));
      for (String p : places) {
        assertThat(p).doesNotContain(PATTERN_CANARY).doesNotContain(KNOWN_CANARY);
        assertThat(p).doesNotContain("hunter2hunter2");
      }
      // The places searched really held the run: its tool results and input, masked.
      assertThat(String.join("\n", places)).contains("[REDACTED]");
    } finally {
      ((LoggerContext) LoggerFactory.getILoggerFactory())
          .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
          .detachAppender(appender);
      if (kind.equals("sqlite")) {
        store.close();
      } else {
        try (Connection c = DriverManager.getConnection(pgBase);
            Statement st = c.createStatement()) {
          st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
      }
    }
  }

  private static AgentSpec agent() {
    return new AgentSpec(
        "vault-bot",
        "1",
        "Read the vault.",
        "scripted",
        List.of("vault.read", "vault.fail", "vault.rotate"),
        Budget.DEFAULT,
        256);
  }

  private static Tool readTool() {
    return tool(
        "vault.read",
        () ->
            new ToolResult.Success(
                JsonValue.object(
                    "value", PATTERN_CANARY, "note", "the key is " + KNOWN_CANARY, "rows", 3L)));
  }

  private static Tool failTool() {
    return tool(
        "vault.fail",
        () ->
            new ToolResult.Failure(
                "upstream_error",
                false,
                "GET https://vault.test/v1/secret?token=" + PATTERN_CANARY + " failed",
                ""));
  }

  private static Tool rotateTool() {
    return tool("vault.rotate", 3, () -> new ToolResult.Success(JsonValue.object("rotated", true)));
  }

  private static Tool tool(String name, java.util.function.Supplier<ToolResult> result) {
    return tool(name, 0, result);
  }

  private static Tool tool(String name, int risk, java.util.function.Supplier<ToolResult> result) {
    ToolSpec spec = ToolSpec.builder(name).riskLevel(risk).idempotency(Idempotency.NATURAL).build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        return result.get();
      }
    };
  }

  private static OutputStreamAppender<ILoggingEvent> captureLogs(ByteArrayOutputStream out) {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    JsonLineLayout layout = new JsonLineLayout();
    layout.setContext(ctx);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> enc = new LayoutWrappingEncoder<>();
    enc.setContext(ctx);
    enc.setLayout(layout);
    enc.start();
    OutputStreamAppender<ILoggingEvent> app = new OutputStreamAppender<>();
    app.setContext(ctx);
    app.setEncoder(enc);
    app.setOutputStream(out);
    app.start();
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(app);
    return app;
  }

  private static HttpResponse<String> send(
      HttpClient client,
      String base,
      String token,
      String method,
      String path,
      String body,
      List<String> capture)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Authorization", "Bearer " + token)
            .timeout(Duration.ofSeconds(30));
    b =
        body == null
            ? b.method(method, HttpRequest.BodyPublishers.noBody())
            : b.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    capture.add(r.headers().map() + " " + r.body());
    return r;
  }

  private static String pgDump(String schema) throws Exception {
    Process p =
        new ProcessBuilder(
                "pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-n", schema, "-a")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("vault.read");
    return out;
  }
}
