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
import dev.keel.store.jdbc.JdbcIdempotencyStore;
import dev.keel.store.jdbc.JdbcRunQuery;
import dev.keel.store.jdbc.JdbcWebhookStore;
import dev.keel.store.jdbc.SideDb;
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
    POSTGRES,
    /**
     * PostgreSQL in a fresh schema migrated by the owner, with the store, the run list, idempotency
     * and webhooks working as a login that only has the {@code keel_app} grants, so row-level
     * security applies (docs/decisions/0043).
     */
    POSTGRES_APP_ROLE
  }

  /** The login of {@link Store#POSTGRES_APP_ROLE}, made once per JVM and dropped at exit. */
  static final String APP_LOGIN = "keel_server_it_app_" + ProcessHandle.current().pid();

  /** The user the side tables connect as for the last store {@link #open} made, per thread. */
  static final ThreadLocal<String> LAST_USER = ThreadLocal.withInitial(() -> "");

  final RunStore store;
  final InMemoryApiKeys keys = new InMemoryApiKeys();
  final Engine engine;
  final RunWorker worker;
  final ApiServer server;
  final SideDb side;
  final String url;
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
                  if (!SCHEMAS.isEmpty()) {
                    try (java.sql.Connection c =
                            java.sql.DriverManager.getConnection(
                                SCHEMAS.iterator().next().split(" ", 2)[0]);
                        java.sql.Statement st = c.createStatement()) {
                      st.execute("DROP ROLE IF EXISTS " + APP_LOGIN);
                    } catch (java.sql.SQLException x) {
                      // best effort
                    }
                  }
                }));
  }

  /** The JDBC URL of the last store {@link #open} made, per thread (empty for memory). */
  static final ThreadLocal<String> LAST_URL = new ThreadLocal<>();

  static RunStore open(Store kind) {
    LAST_URL.set("");
    LAST_USER.set("");
    try {
      return switch (kind) {
        case MEMORY -> new InMemoryRunStore(InstantSource.system());
        case SQLITE -> {
          java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("keel-server-it");
          LAST_URL.set("jdbc:sqlite:" + dir.resolve("keel.db"));
          yield Stores.open(LAST_URL.get(), FaultInjector.NONE);
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
          LAST_URL.set(base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema);
          yield Stores.open(LAST_URL.get(), FaultInjector.NONE);
        }
        case POSTGRES_APP_ROLE -> {
          String base =
              Optional.ofNullable(System.getenv("PG_URL"))
                  .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
          String database = base.split("\\?", 2)[0];
          String schema = "keel_server_it_" + Long.toHexString(System.nanoTime());
          try (java.sql.Connection c = java.sql.DriverManager.getConnection(base);
              java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
          }
          SCHEMAS.add(base + " " + schema);
          String owned = base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
          String owner =
              base.contains("user=") ? base.replaceAll(".*[?&]user=([^&]*).*", "$1") : "postgres";
          dev.keel.store.jdbc.StoreMigrations.migrate(owned, owner, "");
          synchronized (TestServer.class) {
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(base);
                java.sql.Statement st = c.createStatement();
                java.sql.ResultSet rs =
                    st.executeQuery(
                        "SELECT count(*) FROM pg_roles WHERE rolname = '" + APP_LOGIN + "'")) {
              rs.next();
              if (rs.getInt(1) == 0) {
                st.execute("CREATE ROLE " + APP_LOGIN + " LOGIN NOSUPERUSER NOBYPASSRLS");
                st.execute("GRANT keel_app TO " + APP_LOGIN);
              }
            }
          }
          LAST_URL.set(database + "?currentSchema=" + schema);
          LAST_USER.set(APP_LOGIN);
          yield new dev.keel.store.jdbc.PostgresRunStore(
              dev.keel.store.jdbc.PostgresConfig.of(LAST_URL.get())
                  .withCredentials(owner, "")
                  .withApplicationRole(APP_LOGIN, ""),
              FaultInjector.NONE);
        }
      };
    } catch (java.io.IOException | java.sql.SQLException x) {
      throw new IllegalStateException("cannot open a " + kind + " store for the test", x);
    }
  }

  TestServer(ServerConfig cfg, Store kind) {
    this(cfg, open(kind), ApiPolicy.DEFAULT, true);
  }

  /** A server on {@code kind} with {@code policy} (webhooks, quotas). */
  TestServer(Store kind, ApiPolicy policy) {
    this(
        ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000),
        open(kind),
        policy,
        true);
  }

  /** A server on {@code kind} with {@code policy} and no worker: created runs stay queued. */
  static TestServer withoutWorker(Store kind, ApiPolicy policy) {
    return new TestServer(
        ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000),
        open(kind),
        policy,
        false);
  }

  /** A server on the existing database at {@code url} (a restart), with {@code policy}. */
  static TestServer reopen(String url, ApiPolicy policy) {
    LAST_URL.set(url);
    return new TestServer(
        ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000),
        Stores.open(url, FaultInjector.NONE),
        policy,
        true);
  }

  /**
   * A second server on the database of {@code first} (another process's view: its own store, pool
   * and side tables), with no worker, that also accepts {@code first}'s keys.
   */
  static TestServer secondWithoutWorker(TestServer first, ApiPolicy policy) {
    LAST_URL.set(first.url);
    TestServer t =
        new TestServer(
            ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000),
            Stores.open(first.url, FaultInjector.NONE),
            policy,
            false);
    first.keys.all().forEach(t.keys::save);
    return t;
  }

  private TestServer(ServerConfig cfg, RunStore opened, ApiPolicy policy, boolean withWorker) {
    store = opened;
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
    AgentSpec asker =
        AgentSpec.builder("asker")
            .instructions("Plan, ask which order, answer.", "1")
            .model("scripted")
            .tools(List.of("orders.lookup"))
            .maxOutputTokens(256)
            .capabilities(Set.of("plan", "ask_person"))
            .build();
    ScriptedModel model =
        ScriptedModel.of(
            (request, step) -> {
              if (request.tools().stream().anyMatch(t -> t.name().equals("keel.ask_person"))) {
                return step == 1
                    ? ScriptedModel.calls(
                        ScriptedModel.call(
                            "p1",
                            "keel.update_plan",
                            JsonValue.object(
                                "steps",
                                List.of(
                                    JsonValue.object(
                                        "id",
                                        "1",
                                        "title",
                                        "Ask which order",
                                        "status",
                                        "in_progress")))),
                        ScriptedModel.call(
                            "q1",
                            "keel.ask_person",
                            JsonValue.object(
                                "question", "Which order?", "choices", List.of("A-7", "B-8"))))
                    : ScriptedModel.text(
                        "You said "
                            + request.messages().getLast()
                            + " | "
                            + ((dev.keel.model.Message.System) request.messages().getFirst())
                                .text());
              }
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
            AgentCatalog.of(List.of(triage, chatty, asker)),
            model,
            m -> new Pricing(1_000_000, 2_000_000, 0),
            new ToolRegistry(tools),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(5)).withCheckpointEvery(1));
    worker = withWorker ? new RunWorker(engine, "w-test", Throwable::printStackTrace) : null;
    Instant now = Instant.now();
    admin = KeyTokens.issue(keys, "acme", Role.ADMIN, Set.of(), now).token();
    operator = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), now).token();
    viewer = KeyTokens.issue(keys, "acme", Role.VIEWER, Set.of(), now).token();
    otherOperator = KeyTokens.issue(keys, "globex", Role.OPERATOR, Set.of(), now).token();
    otherViewer = KeyTokens.issue(keys, "globex", Role.VIEWER, Set.of(), now).token();
    String url = LAST_URL.get();
    this.url = url;
    // As keel serve: on SQLite, idempotency answers and admission slots join the group commits.
    side =
        url.isEmpty()
            ? null
            : SideDb.open(url, LAST_USER.get(), "", 4).joiningCommitsOf(engine.store());
    ServerServices services =
        side == null
            ? ServerServices.inMemory().withPolicy(policy)
            : ServerServices.of(
                    new JdbcIdempotencyStore(side),
                    new JdbcRunQuery(side),
                    new JdbcWebhookStore(side),
                    policy)
                .withAdmissions(new dev.keel.store.jdbc.JdbcAdmissions(side));
    server = new ApiServer(engine, keys, cfg, Optional::empty, services).start();
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
    if (worker != null) {
      try {
        worker.drain(Duration.ofSeconds(5));
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
      }
      worker.close();
    }
    if (side != null) {
      side.close();
    }
    store.close();
  }
}
