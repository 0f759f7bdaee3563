package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

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
import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.server.auth.InMemoryApiKeys;
import dev.keel.server.auth.IssuedKey;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import dev.keel.store.RunStore;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code GET /v1/usage} over real HTTP on SQLite and PostgreSQL: runs with scripted token usage at
 * known prices, of two agents, users, skills and prompt versions, in two tenants and two time
 * windows. Every grouping's totals are checked twice — against figures computed by hand from the
 * script and the prices, and against the sum of the {@code model.responded} events read back from
 * the run logs — exactly, in integer micro-dollars and as decimal dollars.
 */
class UsageIT {
  // model-a: $3 in / $15 out per million tokens = 3 and 15 micro-dollars a token, no rounding
  static final Pricing PRICE_A = new Pricing(3_000_000, 15_000_000, 0);
  // model-b: $1 in / $2 out per million tokens
  static final Pricing PRICE_B = new Pricing(1_000_000, 2_000_000, 0);
  static final TokenUsage A1 = TokenUsage.of(1234, 56); // 3702 + 840 = 4542 micros
  static final TokenUsage A2 = TokenUsage.of(789, 10); // 2367 + 150 = 2517 micros
  static final TokenUsage B1 = TokenUsage.of(333, 77); // 333 + 154 = 487 micros

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void usageByEveryDimensionAgreesExactlyWithTheRecordedModelCalls(TestServer.Store kind)
      throws Exception {
    RunStore store = TestServer.open(kind);
    AgentSpec alpha =
        AgentSpec.builder("alpha")
            .instructions("Look up, then answer.", "p1")
            .model("model-a")
            .tools(List.of("orders.lookup"))
            .maxOutputTokens(256)
            .build();
    AgentSpec beta =
        AgentSpec.builder("beta")
            .instructions("Answer.", "p7")
            .model("model-b")
            .tools(List.of())
            .maxOutputTokens(256)
            .build();
    ScriptedModel model =
        ScriptedModel.of(
            (req, step) -> {
              if (req.model().equals("model-b")) {
                return new ModelResponse("model-b", "ok", List.of(), B1, FinishReason.STOP);
              }
              if (step == 1) {
                return new ModelResponse(
                    "model-a",
                    "",
                    List.of(
                        new ToolCallRequest(
                            "c1", "orders.lookup", JsonValue.object("order_id", "A-1"))),
                    A1,
                    FinishReason.TOOL_CALLS);
              }
              if (req.messages().toString().contains("boom")) {
                throw new ModelException(ModelException.Kind.INVALID_REQUEST, "refused");
              }
              return new ModelResponse("model-a", "done", List.of(), A2, FinishReason.STOP);
            });
    Engine engine =
        Engine.of(
            store,
            AgentCatalog.of(List.of(alpha, beta)),
            model,
            m -> m.equals("model-a") ? PRICE_A : PRICE_B,
            new ToolRegistry(List.of(lookup())),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(5)).withCheckpointEvery(1));
    InMemoryApiKeys keys = new InMemoryApiKeys();
    String acme = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), Instant.now()).token();
    String globex = KeyTokens.issue(keys, "globex", Role.OPERATOR, Set.of(), Instant.now()).token();
    // Three people of acme, each with a key: usage by user is by the key that created the run,
    // never by the client-supplied metadata.user (cat's run claims to be ann's below).
    IssuedKey annKey = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), Instant.now());
    IssuedKey bobKey = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), Instant.now());
    IssuedKey catKey = KeyTokens.issue(keys, "acme", Role.OPERATOR, Set.of(), Instant.now());
    String ann = annKey.key().id();
    String bob = bobKey.key().id();
    String cat = catKey.key().id();
    RunWorker worker = new RunWorker(engine, "w-usage", Throwable::printStackTrace);
    ApiServer server =
        new ApiServer(
                engine,
                keys,
                ServerConfig.DEFAULT.withPort(0).withRates(10_000, 10_000, 10_000, 10_000),
                Optional::empty,
                ServerServices.inMemory())
            .start();
    Http http = new Http("http://127.0.0.1:" + server.port());
    try {
      // Window 1: ann's and cat's runs.
      List<String> first = new ArrayList<>();
      first.add(http.run(annKey.token(), "alpha", "go", "ann", "refunds", "completed")); // A1+A2
      first.add(http.run(annKey.token(), "beta", "go", "ann", null, "completed")); // B1
      first.add(http.run(catKey.token(), "alpha", "boom", "ann", "refunds", "failed")); // A1
      // The run shows who created it: the key, whatever its metadata claims.
      HttpResponse<String> cats =
          http.send(annKey.token(), "GET", "/v1/runs/" + first.get(2), null);
      assertThat(Http.json(cats).string("created_by")).as(cats.body()).contains(cat);
      Instant boundary = Instant.EPOCH;
      for (String id : first) {
        for (EventEnvelope e : store.events(RunId.of(id), 0, Integer.MAX_VALUE)) {
          boundary = e.at().isAfter(boundary) ? e.at() : boundary;
        }
      }
      boundary = boundary.plusMillis(1);
      // The store stamps events with its own clock: wait until it has passed the boundary.
      Instant deadline = Instant.now().plusSeconds(30);
      while (store.now().isBefore(boundary)) {
        assertThat(Instant.now()).as("the store's clock did not advance").isBefore(deadline);
        Thread.sleep(1);
      }
      // Window 2: bob's run, and a run of another tenant nobody in acme may see.
      List<String> second = new ArrayList<>();
      second.add(http.run(bobKey.token(), "alpha", "go", "bob", "refunds", "completed")); // A1+A2
      String other = http.run(globex, "beta", "go", "zed", "refunds", "completed");

      long a = PRICE_A.costMicros(A1) + PRICE_A.costMicros(A2);
      assertThat(a).isEqualTo(4542 + 2517);
      long fail = PRICE_A.costMicros(A1);
      long b = PRICE_B.costMicros(B1);
      assertThat(b).isEqualTo(487);

      // By hand: [model calls, tool calls, input, output, cost micros, runs, successful runs,
      // cost per successful run in micros or -1]
      Map<String, long[]> byAgent =
          Map.of(
              "alpha",
                  new long[] {5, 3, 3 * 1234 + 2 * 789, 3 * 56 + 2 * 10, 2 * a + fail, 3, 2, a},
              "beta", new long[] {1, 0, 333, 77, b, 1, 1, b});
      check(http.usage(acme, "agent", ""), "agent", byAgent);
      long[] total =
          new long[] {6, 3, 3 * 1234 + 2 * 789 + 333, 3 * 56 + 2 * 10 + 77, 2 * a + fail + b};
      check(
          http.usage(acme, "tenant", ""),
          "tenant",
          Map.of("acme", concat(total, new long[] {4, 3, (2 * a + b) / 3})));
      check(
          http.usage(acme, "user", ""),
          "user",
          Map.of(
              ann, new long[] {3, 1, 1234 + 789 + 333, 56 + 10 + 77, a + b, 2, 2, (a + b) / 2},
              bob, new long[] {2, 1, 1234 + 789, 66, a, 1, 1, a},
              cat, new long[] {1, 1, 1234, 56, fail, 1, 0, -1}));
      check(
          http.usage(acme, "model", ""),
          "model",
          Map.of(
              "model-a",
                  new long[] {5, 0, 3 * 1234 + 2 * 789, 3 * 56 + 2 * 10, 2 * a + fail, 3, 2, a},
              "model-b", new long[] {1, 0, 333, 77, b, 1, 1, b},
              "(tool calls)", new long[] {0, 3, 0, 0, 0, 0, 0, -1}));
      check(
          http.usage(acme, "skill", ""),
          "skill",
          Map.of(
              "refunds",
                  new long[] {5, 3, 3 * 1234 + 2 * 789, 3 * 56 + 2 * 10, 2 * a + fail, 3, 2, a},
              "(none)", new long[] {1, 0, 333, 77, b, 1, 1, b}));
      check(
          http.usage(acme, "prompt_version", ""),
          "prompt_version",
          Map.of(
              "alpha@p1",
                  new long[] {5, 3, 3 * 1234 + 2 * 789, 3 * 56 + 2 * 10, 2 * a + fail, 3, 2, a},
              "beta@p7", new long[] {1, 0, 333, 77, b, 1, 1, b}));
      check(
          http.usage(acme, "tool", ""),
          "tool",
          Map.of(
              "orders.lookup",
              new long[] {0, 3, 0, 0, 0, 0, 0, -1},
              "(model calls)",
              new long[] {total[0], 0, total[2], total[3], total[4], 0, 0, -1}));

      // Time windows: [.., boundary) holds the first three runs, [boundary, ..) bob's only.
      String before = "&to=" + enc(boundary.toString());
      String after = "&from=" + enc(boundary.toString());
      check(
          http.usage(acme, "user", before),
          "user",
          Map.of(
              ann, new long[] {3, 1, 1234 + 789 + 333, 56 + 10 + 77, a + b, 2, 2, (a + b) / 2},
              cat, new long[] {1, 1, 1234, 56, fail, 1, 0, -1}));
      check(
          http.usage(acme, "user", after),
          "user",
          Map.of(bob, new long[] {2, 1, 1234 + 789, 66, a, 1, 1, a}));
      check(
          http.usage(globex, "tenant", ""),
          "tenant",
          Map.of("globex", new long[] {1, 0, 333, 77, b, 1, 1, b}));

      // And the same totals straight from the run logs, for every dimension that partitions.
      List<String> acmeRuns = new ArrayList<>(first);
      acmeRuns.addAll(second);
      long calls = 0;
      long in = 0;
      long out = 0;
      long cost = 0;
      for (String id : acmeRuns) {
        for (EventEnvelope e : store.events(RunId.of(id), 0, Integer.MAX_VALUE)) {
          if (e.event() instanceof RunEvent.ModelResponded m) {
            calls++;
            in += m.response().usage().inputTokens();
            out += m.response().usage().outputTokens();
            cost += m.costMicros();
          }
        }
      }
      assertThat(new long[] {calls, in, out, cost})
          .containsExactly(total[0], total[2], total[3], total[4]);
      for (String by : List.of("tenant", "user", "agent", "model", "tool", "prompt_version")) {
        long[] sum = new long[4];
        for (JsonValue v : data(http.usage(acme, by, ""))) {
          JsonObject g = (JsonObject) v;
          sum[0] += num(g, "model_calls");
          sum[1] += num(g, "input_tokens");
          sum[2] += num(g, "output_tokens");
          sum[3] += num(g, "cost_micros");
        }
        assertThat(sum).as("group_by=%s", by).containsExactly(calls, in, out, cost);
      }
      assertThat(other).isNotNull();

      // Bad ranges are refused, naming the parameter.
      HttpResponse<String> backwards =
          http.get(acme, "/v1/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");
      assertThat(backwards.statusCode()).isEqualTo(400);
      assertThat(backwards.body()).contains("?to").contains("must be after ?from");
      HttpResponse<String> badGroup = http.get(acme, "/v1/usage?group_by=planet");
      assertThat(badGroup.statusCode()).isEqualTo(400);
      assertThat(badGroup.body()).contains("skill");
    } finally {
      server.close();
      worker.drain(Duration.ofSeconds(5));
      store.close();
    }
  }

  /** The groups of {@code page} are exactly {@code want}, figure by figure. */
  private static void check(JsonObject page, String by, Map<String, long[]> want) {
    Map<String, long[]> got = new TreeMap<>();
    for (JsonValue v : data(page)) {
      JsonObject g = (JsonObject) v;
      String key = g.string(by).orElseThrow();
      long micros = num(g, "cost_micros");
      // the decimal dollars are the micros exactly
      assertThat(new BigDecimal(g.get("cost_usd").orElseThrow().toString()))
          .as("%s %s cost_usd", by, key)
          .isEqualByComparingTo(BigDecimal.valueOf(micros, 6));
      JsonValue per = g.get("cost_per_successful_run_usd").orElseThrow();
      long perMicros =
          per.equals(JsonValue.NULL)
              ? -1
              : new BigDecimal(per.toString()).movePointRight(6).longValueExact();
      got.put(
          key,
          new long[] {
            num(g, "model_calls"),
            num(g, "tool_calls"),
            num(g, "input_tokens"),
            num(g, "output_tokens"),
            micros,
            num(g, "runs"),
            num(g, "successful_runs"),
            perMicros
          });
    }
    assertThat(got.keySet()).as("%s groups in %s", by, page).isEqualTo(want.keySet());
    want.forEach(
        (k, w) ->
            assertThat(got.get(k))
                .as(
                    "%s=%s: [model calls, tool calls, input, output, cost micros, runs, successful,"
                        + " per successful run] in %s",
                    by, k, page)
                .containsExactly(w));
  }

  private static long[] concat(long[] x, long[] y) {
    long[] out = java.util.Arrays.copyOf(x, x.length + y.length);
    System.arraycopy(y, 0, out, x.length, y.length);
    return out;
  }

  private static List<JsonValue> data(JsonObject page) {
    return ((JsonValue.JsonArray) page.get("data").orElseThrow()).items();
  }

  private static long num(JsonObject o, String key) {
    return ((JsonValue.JsonNumber) o.get(key).orElseThrow()).longValueExact();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static Tool lookup() {
    ToolSpec spec = ToolSpec.builder("orders.lookup").description("Looks up").riskLevel(0).build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        return new ToolResult.Success(JsonValue.object("total_usd", 20));
      }
    };
  }

  /** A small client of the server. */
  private record Http(String base) {
    static final HttpClient CLIENT = HttpClient.newHttpClient();

    HttpResponse<String> send(String token, String method, String path, String body)
        throws Exception {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(base + path))
              .timeout(Duration.ofSeconds(60))
              .header("Authorization", "Bearer " + token);
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      b.method(
          method,
          body == null
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(body));
      return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String token, String path) throws Exception {
      return send(token, "GET", path, null);
    }

    /** Creates a run, waits until it ends with {@code status}, returns its id. */
    String run(String token, String agent, String goal, String user, String skill, String status)
        throws Exception {
      JsonObject metadata =
          skill == null
              ? JsonValue.object("user", user)
              : JsonValue.object("user", user, "skill", skill);
      HttpResponse<String> created =
          send(
              token,
              "POST",
              "/v1/runs",
              JsonValue.object(
                      "agent", agent, "input", JsonValue.object("goal", goal), "metadata", metadata)
                  .toString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String id = json(created).string("id").orElseThrow();
      HttpResponse<String> done =
          send(token, "POST", "/v1/runs/" + id + "/wait?timeout_s=30", null);
      assertThat(json(done).string("status")).as(done.body()).contains(status);
      return id;
    }

    JsonObject usage(String token, String by, String range) throws Exception {
      HttpResponse<String> r = get(token, "/v1/usage?group_by=" + by + range);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      return json(r);
    }

    static JsonObject json(HttpResponse<String> r) {
      return (JsonObject) JsonParser.parse(r.body(), JsonLimits.TRUSTED);
    }
  }
}
