package dev.keel.server;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.server.auth.InMemoryApiKeys;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real server on a free port over the in-memory store with a worker, two tenants and a key of
 * each role, plus a small HTTP client.
 */
final class TestServer implements AutoCloseable {
  /** Which store a test server runs on. */
  enum Store {
    /** The in-memory fake. */
    MEMORY,
    /** SQLite in a temporary file. */
    SQLITE,
    /** PostgreSQL ({@code PG_URL}, default the local test database) in a fresh schema. */
    POSTGRES
  }

  final RunStore store;
  final InMemoryApiKeys keys = new InMemoryApiKeys();
  final Engine engine;
  final RunWorker worker;
  final ApiServer server;
  final String admin;
  final String operator;
  final String viewer;
  final String otherOperator;
  final String otherViewer;
  final AtomicInteger refunds = new AtomicInteger();
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  TestServer() {
    this(ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000));
  }

  TestServer(ServerConfig cfg) {
    this(cfg, Store.MEMORY);
  }

  TestServer(Store kind) {
    this(ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000), kind);
  }

  /** PostgreSQL schemas made by tests ("url schema"), dropped when the JVM exits. */
  static final java.util.Set<String> SCHEMAS = java.util.concurrent.ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (String s : SCHEMAS) {
                    String[] parts = s.split(" ", 2);
                    try (java.sql.Connection c = java.sql.DriverManager.getConnection(parts[0]);
                        java.sql.Statement st = c.createStatement()) {
                      st.execute("DROP SCHEMA IF EXISTS " + parts[1] + " CASCADE");
                    } catch (java.sql.SQLException x) {
                      // best effort: a leftover schema only costs space in the test database
                    }
                  }
                }));
  }

  static RunStore open(Store kind) {
    try {
      return switch (kind) {
        case MEMORY -> new InMemoryRunStore(InstantSource.system());
        case SQLITE -> {
          java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("keel-server-it");
          yield Stores.open("jdbc:sqlite:" + dir.resolve("keel.db"), FaultInjector.NONE);
        }
        case POSTGRES -> {
          String base =
              Optional.ofNullable(System.getenv("PG_URL"))
                  .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
          String schema = "keel_server_it_" + Long.toHexString(System.nanoTime());
          try (java.sql.Connection c = java.sql.DriverManager.getConnection(base);
              java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
          }
          SCHEMAS.add(base + " " + schema);
          yield Stores.open(
              base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema,
              FaultInjector.NONE);
        }
      };
    } catch (java.io.IOException | java.sql.SQLException x) {
      throw new IllegalStateException("cannot open a " + kind + " store for the test", x);
    }
  }

  TestServer(ServerConfig cfg, Store kind) {
    store = open(kind);
    Budget big = new Budget(1000, 1000, 1000, 1_000_000, Duration.ofMinutes(10));
    AgentSpec triage =
        new AgentSpec(
            "triage",
            "1",
            "Look up the order, propose a refund, answer.",
            "scripted",
            List.of("orders.lookup", "orders.refund"),
            Budget.DEFAULT,
            256);
    AgentSpec chatty =
        new AgentSpec(
            "chatty",
            "1",
            "Look things up many times.",
            "scripted",
            List.of("orders.lookup"),
            big,
            256);
    ScriptedModel model =
        ScriptedModel.of(
            (request, step) -> {
              boolean isChatty =
                  request.tools().stream().noneMatch(t -> t.name().equals("orders.refund"));
              if (isChatty) {
                return step <= 150
                    ? ScriptedModel.calls(
                        ScriptedModel.call(
                            "c" + step, "orders.lookup", JsonValue.object("order_id", "A-" + step)))
                    : ScriptedModel.text("looked up 150 orders");
              }
              return switch (step) {
                case 1 ->
                    ScriptedModel.calls(
                        ScriptedModel.call(
                            "c1", "orders.lookup", JsonValue.object("order_id", "A-1")));
                case 2 ->
                    ScriptedModel.calls(
                        ScriptedModel.call(
                            "c2",
                            "orders.refund",
                            JsonValue.object("order_id", "A-1", "amount_usd", 20)));
                default -> ScriptedModel.text("Refunded order A-1.");
              };
            });
    List<Tool> tools = List.of(lookup(), refund());
    engine =
        Engine.of(
            store,
            AgentCatalog.of(List.of(triage, chatty)),
            model,
            m -> new Pricing(1_000_000, 2_000_000, 0),
            new ToolRegistry(tools),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(5)).withCheckpointEvery(1));
    worker = new RunWorker(engine, "w-test", Throwable::printStackTrace);
    Instant now = Instant.now();
    admin = KeyTokens.issue(keys, "acme", Role.ADMIN, Set.of(), now).token();
    operator = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), now).token();
    viewer = KeyTokens.issue(keys, "acme", Role.VIEWER, Set.of(), now).token();
    otherOperator = KeyTokens.issue(keys, "globex", Role.OPERATOR, Set.of(), now).token();
    otherViewer = KeyTokens.issue(keys, "globex", Role.VIEWER, Set.of(), now).token();
    server = new ApiServer(engine, keys, cfg, Optional::empty).start();
  }

  private static Tool lookup() {
    ToolSpec spec =
        ToolSpec.builder("orders.lookup")
            .description("Looks up an order")
            .inputSchema(
                JsonValue.object(
                    "type",
                    "object",
                    "properties",
                    JsonValue.object("order_id", JsonValue.object("type", "string"))))
            .riskLevel(0)
            .build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) throws InterruptedException {
        Thread.sleep(2);
        return new ToolResult.Success(
            JsonValue.object(
                "order_id", inv.arguments().string("order_id").orElse("?"), "total_usd", 20));
      }
    };
  }

  private Tool refund() {
    ToolSpec spec =
        ToolSpec.builder("orders.refund")
            .description("Refunds an order")
            .riskLevel(3)
            .idempotency(Idempotency.KEYED)
            .build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        refunds.incrementAndGet();
        return new ToolResult.Success(JsonValue.object("refunded", true));
      }
    };
  }

  String base() {
    return "http://127.0.0.1:" + server.port();
  }

  /** An HTTP answer. */
  record Response(int status, String body, java.net.http.HttpHeaders headers) {
    JsonObject json() {
      return (JsonObject) JsonParser.parse(body, JsonLimits.TRUSTED);
    }

    String str(String key) {
      return json().string(key).orElseThrow(() -> new AssertionError("no " + key + " in " + body));
    }

    List<JsonValue> data() {
      return ((JsonValue.JsonArray) json().get("data").orElseThrow()).items();
    }
  }

  Response call(String method, String path, String token, String body) {
    return call(method, path, token, body, Map.of());
  }

  Response call(
      String method, String path, String token, String body, Map<String, String> headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null && !headers.containsKey("Content-Type")) {
      b.header("Content-Type", "application/json");
    }
    headers.forEach(b::header);
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body(), r.headers());
    } catch (IOException x) {
      throw new java.io.UncheckedIOException(x);
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(x);
    }
  }

  /** Creates a run of {@code agent} as the operator and returns its id. */
  String createRun(String agent, String goal) {
    Response r =
        call(
            "POST",
            "/v1/runs",
            operator,
            "{\"agent\":\"" + agent + "\",\"input\":{\"goal\":\"" + goal + "\"}}");
    if (r.status() != 201) {
      throw new AssertionError("create failed: " + r);
    }
    return r.str("id");
  }

  /** Waits until the run is terminal or waiting. */
  JsonObject await(String runId) {
    return call("POST", "/v1/runs/" + runId + "/wait?timeout_s=30", operator, null).json();
  }

  @Override
  public void close() {
    server.close();
    try {
      worker.drain(Duration.ofSeconds(5));
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    }
    worker.close();
    store.close();
  }
}
