package dev.keel.models.openai;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.TokenUsage;
import dev.keel.models.ProviderConformanceTest;
import dev.keel.models.StreamingModelProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

class OpenAiChatConformanceTest extends ProviderConformanceTest {

  @Override
  protected StreamingModelProvider provider(URI baseUrl, Duration requestTimeout) {
    return new OpenAiChatProvider(
        new HttpEndpoint(
            "openai",
            URI.create(baseUrl + "/v1"),
            new SecretRef.Fixed("sk-test-key"),
            Duration.ofSeconds(2),
            requestTimeout,
            Map.of()),
        OpenAiChatProvider.Dialect.OPENAI);
  }

  @Override
  protected String fixtureDir() {
    return "openai-chat";
  }

  @Override
  protected String expectedPath(String model) {
    return "/v1/chat/completions";
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
  protected void assertAuthenticated(dev.keel.models.FixtureServer.Recorded request) {
    assertThat(request.header("Authorization")).isEqualTo("Bearer sk-test-key");
  }

  @Override
  protected void assertToolRoundTripEncoded(JsonObject body) {
    JsonArray messages = (JsonArray) body.get("messages").orElseThrow();
    assertThat(messages.items()).hasSize(4);
    JsonObject assistant = (JsonObject) messages.items().get(2);
    assertThat(assistant.string("role")).contains("assistant");
    assertThat(assistant.get("tool_calls").orElseThrow().toString())
        .contains("\"id\":\"call_w1\"")
        .contains("\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"");
    JsonObject tool = (JsonObject) messages.items().get(3);
    assertThat(tool.string("role")).contains("tool");
    assertThat(tool.string("tool_call_id")).contains("call_w1");
    assertThat(tool.string("content")).contains("{\"sky\":\"clear\",\"temperature_c\":22}");
    assertThat(body.get("stream")).contains(JsonValue.TRUE);
    assertThat(body.get("stream_options")).contains(JsonValue.object("include_usage", true));
    assertThat(body.get("max_completion_tokens")).contains(JsonValue.of(512));
  }

  @Override
  protected void assertStructuredRequest(JsonObject body, JsonObject schema) {
    JsonObject format = (JsonObject) body.get("response_format").orElseThrow();
    assertThat(format.string("type")).contains("json_schema");
    assertThat(((JsonObject) format.get("json_schema").orElseThrow()).get("schema"))
        .contains(schema);
  }
}
