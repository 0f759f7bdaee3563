package dev.keel.models.ollama;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.TokenUsage;
import dev.keel.models.FixtureServer;
import dev.keel.models.ProviderConformanceTest;
import dev.keel.models.StreamingModelProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

class OllamaConformanceTest extends ProviderConformanceTest {

  @Override
  protected StreamingModelProvider provider(URI baseUrl, Duration requestTimeout) {
    return new OllamaProvider(
        new HttpEndpoint(
            "ollama",
            baseUrl,
            new SecretRef.None(),
            Duration.ofSeconds(2),
            requestTimeout,
            Map.of()));
  }

  @Override
  protected String fixtureDir() {
    return "ollama";
  }

  @Override
  protected String streamContentType() {
    return "application/x-ndjson";
  }

  @Override
  protected String streamExtension() {
    return "ndjson";
  }

  @Override
  protected String expectedPath(String model) {
    return "/api/chat";
  }

  @Override
  protected boolean providerGivesCallIds() {
    return false;
  }

  @Override
  protected FinishReason refusalFinish() {
    return FinishReason.STOP;
  }

  @Override
  protected List<FailureCase> failureCases() {
    // Ollama has no content filter; the other classes map from its status codes.
    return super.failureCases().stream()
        .filter(c -> !c.file().equals("error-content-filter"))
        .toList();
  }

  @Override
  protected TokenUsage textUsage() {
    return TokenUsage.of(21, 8);
  }

  @Override
  protected TokenUsage toolUsage() {
    return TokenUsage.of(120, 40);
  }

  @Override
  protected void assertAuthenticated(FixtureServer.Recorded request) {
    assertThat(request.header("Authorization")).isEmpty();
  }

  @Override
  protected void assertToolRoundTripEncoded(JsonObject body) {
    JsonArray messages = (JsonArray) body.get("messages").orElseThrow();
    assertThat(messages.items()).hasSize(4);
    assertThat(((JsonObject) messages.items().get(2)).get("tool_calls").orElseThrow())
        .isEqualTo(
            JsonArray.of(
                JsonValue.object(
                    "function",
                    JsonValue.object(
                        "name", "get_weather", "arguments", JsonValue.object("city", "Paris")))));
    assertThat(messages.items().get(3))
        .isEqualTo(
            JsonValue.object(
                "role",
                "tool",
                "tool_name",
                "get_weather",
                "content",
                "{\"sky\":\"clear\",\"temperature_c\":22}"));
    assertThat(body.get("options")).contains(JsonValue.object("num_predict", 512L));
  }

  @Override
  protected void assertStructuredRequest(JsonObject body, JsonObject schema) {
    assertThat(body.get("format")).contains(schema);
  }
}
