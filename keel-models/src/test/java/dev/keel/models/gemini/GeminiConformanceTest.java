package dev.keel.models.gemini;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import dev.keel.model.ModelRequest;
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
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GeminiConformanceTest extends ProviderConformanceTest {

  @Override
  protected StreamingModelProvider provider(URI baseUrl, Duration requestTimeout) {
    return new GeminiProvider(
        new HttpEndpoint(
            "gemini",
            baseUrl,
            new SecretRef.Fixed("AIza-test-key"),
            Duration.ofSeconds(2),
            requestTimeout,
            Map.of()));
  }

  @Override
  protected String fixtureDir() {
    return "gemini";
  }

  @Override
  protected String expectedPath(String model) {
    return "/v1beta/models/" + model + ":streamGenerateContent?alt=sse";
  }

  @Override
  protected List<FailureCase> failureCases() {
    // Gemini answers a bad key with 400 API_KEY_INVALID; its content filter is tested below.
    return List.of(
        new FailureCase("error-rate-limit", 429, Map.of("Retry-After", "7"), Kind.RATE_LIMITED),
        new FailureCase("error-overloaded", 503, Map.of(), Kind.OVERLOADED),
        new FailureCase("error-auth", 400, Map.of(), Kind.AUTHENTICATION),
        new FailureCase("error-invalid", 400, Map.of(), Kind.INVALID_REQUEST),
        new FailureCase("error-context", 400, Map.of(), Kind.CONTEXT_TOO_LONG));
  }

  @Test
  void blockedPromptIsContentFiltered() {
    server.enqueue(FixtureServer.Reply.ok("text/event-stream", resource("gemini/blocked.sse")));
    assertThatThrownBy(() -> provider(server.baseUrl(), Duration.ofSeconds(5)).complete(ask("q")))
        .isInstanceOfSatisfying(
            ModelException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONTENT_FILTERED))
        .hasMessageContaining("PROHIBITED_CONTENT");
  }

  @Test
  void errorToolResultIsSentUnderError() {
    server.enqueue(FixtureServer.Reply.ok("text/event-stream", resource("gemini/text.sse")));
    ModelRequest r =
        new ModelRequest(
            "m",
            List.of(
                new Message.User("q"),
                new Message.ToolResult("c1", "get_weather", JsonValue.of("no such city"), true)),
            List.of(),
            Optional.empty(),
            10);
    provider(server.baseUrl(), Duration.ofSeconds(5)).complete(r);
    assertThat(server.lastRequest().body()).contains("\"response\":{\"error\":\"no such city\"}");
  }

  @Override
  protected TokenUsage textUsage() {
    return new TokenUsage(21, 8, 0, 0);
  }

  @Override
  protected TokenUsage toolUsage() {
    return new TokenUsage(120, 40, 64, 10);
  }

  @Override
  protected void assertAuthenticated(FixtureServer.Recorded request) {
    assertThat(request.header("x-goog-api-key")).isEqualTo("AIza-test-key");
    assertThat(request.path()).doesNotContain("key=");
  }

  @Override
  protected void assertToolRoundTripEncoded(JsonObject body) {
    assertThat(body.get("systemInstruction"))
        .contains(
            JsonValue.object("parts", JsonArray.of(JsonValue.object("text", "You are terse."))));
    JsonArray contents = (JsonArray) body.get("contents").orElseThrow();
    assertThat(contents.items()).hasSize(3);
    assertThat(contents.items().get(1))
        .isEqualTo(
            JsonValue.object(
                "role",
                "model",
                "parts",
                JsonArray.of(
                    JsonValue.object(
                        "functionCall",
                        JsonValue.object(
                            "name", "get_weather", "args", JsonValue.object("city", "Paris"))))));
    assertThat(contents.items().get(2))
        .isEqualTo(
            JsonValue.object(
                "role",
                "user",
                "parts",
                JsonArray.of(
                    JsonValue.object(
                        "functionResponse",
                        JsonValue.object(
                            "name",
                            "get_weather",
                            "response",
                            JsonValue.object(
                                "output",
                                JsonValue.object("sky", "clear", "temperature_c", 22L)))))));
    assertThat(body.get("tools").orElseThrow().toString())
        .contains("\"functionDeclarations\"")
        .contains("\"parametersJsonSchema\"");
  }

  @Override
  protected void assertStructuredRequest(JsonObject body, JsonObject schema) {
    JsonObject config = (JsonObject) body.get("generationConfig").orElseThrow();
    assertThat(config.string("responseMimeType")).contains("application/json");
    assertThat(config.get("responseJsonSchema")).contains(schema);
  }
}
