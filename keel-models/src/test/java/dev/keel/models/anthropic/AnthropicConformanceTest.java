package dev.keel.models.anthropic;

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

class AnthropicConformanceTest extends ProviderConformanceTest {

  @Override
  protected StreamingModelProvider provider(URI baseUrl, Duration requestTimeout) {
    return new AnthropicProvider(
        new HttpEndpoint(
            "anthropic",
            baseUrl,
            new SecretRef.Fixed("sk-ant-test"),
            Duration.ofSeconds(2),
            requestTimeout,
            Map.of()));
  }

  @Override
  protected String fixtureDir() {
    return "anthropic";
  }

  @Override
  protected String expectedPath(String model) {
    return "/v1/messages";
  }

  @Override
  protected int overloadedStatus() {
    return 529;
  }

  @Override
  protected String toolCallText() {
    return "Let me check.";
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
    assertThat(request.header("x-api-key")).isEqualTo("sk-ant-test");
    assertThat(request.header("anthropic-version")).isEqualTo("2023-06-01");
  }

  @Override
  protected void assertToolRoundTripEncoded(JsonObject body) {
    assertThat(body.string("system")).contains("You are terse.");
    JsonArray messages = (JsonArray) body.get("messages").orElseThrow();
    assertThat(messages.items()).hasSize(3);
    JsonObject assistant = (JsonObject) messages.items().get(1);
    assertThat(assistant.string("role")).contains("assistant");
    assertThat(assistant.get("content").orElseThrow())
        .isEqualTo(
            JsonValue.JsonArray.of(
                JsonValue.object(
                    "type",
                    "tool_use",
                    "id",
                    "call_w1",
                    "name",
                    "get_weather",
                    "input",
                    JsonValue.object("city", "Paris"))));
    JsonObject user = (JsonObject) messages.items().get(2);
    assertThat(user.string("role")).contains("user");
    JsonObject result =
        (JsonObject) ((JsonArray) user.get("content").orElseThrow()).items().getFirst();
    assertThat(result.string("type")).contains("tool_result");
    assertThat(result.string("tool_use_id")).contains("call_w1");
    assertThat(result.string("content")).contains("{\"sky\":\"clear\",\"temperature_c\":22}");
    assertThat(result.get("is_error")).contains(JsonValue.FALSE);
    assertThat(body.get("max_tokens")).contains(JsonValue.of(512));
    assertThat(body.get("tools").orElseThrow().toString()).contains("\"input_schema\"");
  }

  @Override
  protected void assertStructuredRequest(JsonObject body, JsonObject schema) {
    assertThat(body.get("tool_choice"))
        .contains(JsonValue.object("type", "tool", "name", AnthropicProvider.STRUCTURED_TOOL));
    assertThat(body.get("tools").orElseThrow().toString()).contains(schema.toString());
  }
}
