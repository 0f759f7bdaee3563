package dev.keel.tools;

import static dev.keel.tools.Fixtures.contract;
import static dev.keel.tools.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.PolicyVerdict;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolResult;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BI-07: valid and invalid arguments generated from each tool's schema with a seeded generator.
 * Invalid arguments are denied by the policy with JSON pointers and refused by the governed tool; a
 * spy counts zero executions of them. Valid arguments are allowed and executed.
 */
class SchemaFuzzTest {
  private static final List<String> SCHEMAS =
      List.of(
          """
          {"type":"object","properties":{"query":{"type":"string","minLength":1,"maxLength":40},
           "limit":{"type":"integer","minimum":1,"maximum":50}},
           "required":["query"],"additionalProperties":false}
          """,
          """
          {"type":"object","properties":{"to":{"type":"string","minLength":3},
           "cents":{"type":"integer","minimum":1,"maximum":100000},
           "currency":{"enum":["EUR","USD","GBP"]},"urgent":{"type":"boolean"}},
           "required":["to","cents","currency"],"additionalProperties":false}
          """,
          """
          {"type":"object","properties":{
           "tags":{"type":"array","items":{"type":"string","minLength":1},"minItems":1,"maxItems":5},
           "ratio":{"type":"number","minimum":0,"maximum":1},
           "filter":{"type":"object","properties":{"lang":{"enum":["en","de"]},
             "year":{"type":"integer","minimum":1900,"maximum":2100}},
             "required":["lang"],"additionalProperties":false}},
           "required":["tags","filter"],"additionalProperties":false}
          """);

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1L, 7L, 42L, 20260101L})
  void invalidArgumentsNeverExecuteAndValidOnesDo(long seed) throws Exception {
    Random random = new Random(seed);
    Fixtures.Env env = new Fixtures.Env();
    List<Fixtures.Spy> spies = new ArrayList<>();
    for (int i = 0; i < SCHEMAS.size(); i++) {
      spies.add(
          new Fixtures.Spy(contract("fuzz.t" + i, 0).inputSchema(json(SCHEMAS.get(i))).build()));
    }
    ToolCatalog catalog = new ToolCatalog(spies.stream().map(s -> s.tool).toList(), env.runtime);
    ToolPolicy policy =
        catalog
            .forRun(Fixtures.profile("acme"), AgentToolPolicy.STRICT, Integer.MAX_VALUE)
            .policy();
    int valid = 0;
    for (int i = 0; i < 300; i++) {
      int t = random.nextInt(SCHEMAS.size());
      GovernedTool tool = catalog.find("fuzz.t" + t).orElseThrow();
      JsonObject schema = json(SCHEMAS.get(t));
      JsonObject good = (JsonObject) generate(schema, random);
      JsonObject bad = mutate(schema, good, random);
      String context = "seed " + seed + " case " + i + " tool " + t + " bad " + bad;
      assertThat(policy.decide("acme", tool.spec(), bad))
          .as(context)
          .isInstanceOfSatisfying(
              PolicyVerdict.Deny.class,
              d -> assertThat(d.reason()).startsWith("invalid_arguments").contains("/"));
      assertThat(tool.invoke(Fixtures.call("acme", "bad" + i, bad)))
          .as(context)
          .isInstanceOfSatisfying(
              ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("invalid_arguments"));
      assertThat(policy.decide("acme", tool.spec(), good))
          .as("seed " + seed + " valid " + good)
          .isInstanceOf(PolicyVerdict.Allow.class);
      assertThat(tool.invoke(Fixtures.call("acme", "good" + i, good)))
          .isInstanceOf(ToolResult.Success.class);
      valid++;
    }
    int executed = spies.stream().mapToInt(s -> s.calls.get()).sum();
    assertThat(executed).as("executions (seed %d)", seed).isEqualTo(valid);
    assertThat(spies.stream().flatMap(s -> s.seen.stream()).map(inv -> inv.callId()))
        .as("no invalid call executed (seed %d)", seed)
        .noneMatch(id -> id.startsWith("bad"));
  }

  /** Generates a value that conforms to the (small) schema subset used here. */
  static JsonValue generate(JsonObject s, Random r) {
    if (s.get("enum").orElse(null) instanceof JsonArray e) {
      return e.items().get(r.nextInt(e.items().size()));
    }
    String type = s.string("type").orElseThrow();
    return switch (type) {
      case "object" -> {
        JsonObject props = (JsonObject) s.get("properties").orElseThrow();
        List<String> required = names(s.get("required"));
        Map<String, JsonValue> out = new LinkedHashMap<>();
        props
            .members()
            .forEach(
                (k, v) -> {
                  if (required.contains(k) || r.nextBoolean()) {
                    out.put(k, generate((JsonObject) v, r));
                  }
                });
        yield new JsonObject(out);
      }
      case "string" -> {
        int min = (int) num(s, "minLength", 0);
        int max = (int) num(s, "maxLength", Math.max(min, 12));
        int len = min + r.nextInt(Math.max(1, Math.min(max, min + 10) - min + 1));
        StringBuilder sb = new StringBuilder();
        String alphabet = "abcXYZ 019_-;$(`'\"\\/ü😀";
        while (sb.codePointCount(0, sb.length()) < len) {
          sb.appendCodePoint(
              alphabet.codePointAt(
                  alphabet.offsetByCodePoints(
                      0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
        }
        yield JsonValue.of(sb.toString());
      }
      case "integer" -> {
        long min = num(s, "minimum", -1000);
        long max = num(s, "maximum", 1000);
        yield JsonValue.of(min + (long) r.nextInt((int) (max - min + 1)));
      }
      case "number" -> JsonValue.from(BigDecimal.valueOf(r.nextInt(1001), 3));
      case "boolean" -> JsonValue.of(r.nextBoolean());
      case "array" -> {
        int min = (int) num(s, "minItems", 0);
        int max = (int) num(s, "maxItems", 4);
        int n = min + r.nextInt(max - min + 1);
        List<JsonValue> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          items.add(generate((JsonObject) s.get("items").orElseThrow(), r));
        }
        yield new JsonArray(items);
      }
      default -> throw new IllegalArgumentException(type);
    };
  }

  /** Breaks one thing about a valid object so it surely violates the schema. */
  static JsonObject mutate(JsonObject schema, JsonObject good, Random r) {
    JsonObject props = (JsonObject) schema.get("properties").orElseThrow();
    List<String> required = names(schema.get("required"));
    List<String> present = new ArrayList<>(good.members().keySet());
    String key = present.get(r.nextInt(present.size()));
    JsonObject sub = (JsonObject) props.get(key).orElseThrow();
    Map<String, JsonValue> out = new LinkedHashMap<>(good.members());
    switch (r.nextInt(5)) {
      case 0 -> out.put("unexpected_" + r.nextInt(100), JsonValue.of("x"));
      case 1 -> {
        String req = required.get(r.nextInt(required.size()));
        out.remove(req);
      }
      case 2 -> out.put(key, wrongType(sub));
      case 3 -> out.put(key, JsonValue.NULL);
      default -> out.put(key, outOfRange(sub));
    }
    return new JsonObject(out);
  }

  private static JsonValue wrongType(JsonObject sub) {
    return sub.string("type").filter("string"::equals).isPresent()
        ? JsonValue.of(12)
        : JsonValue.of("not-a-" + sub.string("type").orElse("enum-member"));
  }

  private static JsonValue outOfRange(JsonObject sub) {
    if (sub.get("enum").isPresent()) {
      return JsonValue.of("XXX");
    }
    return switch (sub.string("type").orElseThrow()) {
      case "integer" -> JsonValue.of(num(sub, "maximum", 0) + 1);
      case "number" -> JsonValue.of(2);
      case "string" -> sub.get("minLength").isPresent() ? JsonValue.of("") : JsonValue.of(true);
      case "array" -> new JsonArray(List.of());
      case "object" -> JsonValue.object("lang", "fr");
      default -> wrongType(sub);
    };
  }

  private static long num(JsonObject s, String key, long fallback) {
    return s.get(key).map(v -> ((JsonValue.JsonNumber) v).longValueExact()).orElse(fallback);
  }

  private static List<String> names(java.util.Optional<JsonValue> v) {
    return v.map(
            a ->
                ((JsonArray) a)
                    .items().stream().map(i -> ((JsonValue.JsonString) i).value()).toList())
        .orElse(List.of());
  }
}
