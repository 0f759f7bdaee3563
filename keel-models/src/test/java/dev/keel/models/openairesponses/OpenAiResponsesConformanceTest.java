package dev.keel.models.openairesponses;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.TokenUsage;
import dev.keel.models.FixtureServer;
import dev.keel.models.ProviderConformanceTest;
import dev.keel.models.StreamingModelProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

class OpenAiResponsesConformanceTest extends ProviderConformanceTest {

  @Override
  protected StreamingModelProvider provider(URI baseUrl, Duration requestTimeout) {
    return new OpenAiResponsesProvider(
        new HttpEndpoint(
            "openai-responses",
            URI.create(baseUrl + "/v1"),
            new SecretRef.Fixed("sk-test-key"),
            Duration.ofSeconds(2),
            requestTimeout,
            Map.of()));
  }

  @Override
  protected String fixtureDir() {
    return "openai-responses";
  }

  @Override
  protected String expectedPath(String model) {
    return "/v1/responses";
  }

  @Override
  protected TokenUsage textUsage() {
    return new TokenUsage(21, 8, 0, 0);
  }

  @Override
  protected TokenUsage toolUsage() {
    return new TokenUsage(120, 40, 64, 0);
  }

  @Override
  protected void assertAuthenticated(FixtureServer.Recorded request) {
    assertThat(request.header("Authorization")).isEqualTo("Bearer sk-test-key");
  }

  @Override
  protected void assertToolRoundTripEncoded(JsonObject body) {
    JsonArray input = (JsonArray) body.get("input").orElseThrow();
    assertThat(input.items()).hasSize(4);
    assertThat(input.items().get(2))
        .isEqualTo(
            JsonValue.object(
                "type",
                "function_call",
                "call_id",
                "call_w1",
                "name",
                "get_weather",
                "arguments",
                "{\"city\":\"Paris\"}"));
    assertThat(input.items().get(3))
        .isEqualTo(
            JsonValue.object(
                "type",
                "function_call_output",
                "call_id",
                "call_w1",
                "output",
                "{\"sky\":\"clear\",\"temperature_c\":22}"));
    assertThat(body.get("store")).contains(JsonValue.FALSE);
    assertThat(body.get("max_output_tokens")).contains(JsonValue.of(512));
    assertThat(body.get("tools").orElseThrow().toString())
        .contains("\"parameters\"")
        .doesNotContain("\"function\":{");
  }

  @Override
  protected void assertStructuredRequest(JsonObject body, JsonObject schema) {
    JsonObject format =
        (JsonObject) ((JsonObject) body.get("text").orElseThrow()).get("format").orElseThrow();
    assertThat(format.string("type")).contains("json_schema");
    assertThat(format.get("schema")).contains(schema);
  }
}
