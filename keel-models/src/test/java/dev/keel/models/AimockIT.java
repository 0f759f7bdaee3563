package dev.keel.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.ToolCallRequest;
import dev.keel.models.anthropic.AnthropicProvider;
import dev.keel.models.bedrock.BedrockProvider;
import dev.keel.models.gemini.GeminiProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import dev.keel.models.ollama.OllamaProvider;
import dev.keel.models.openai.OpenAiChatProvider;
import dev.keel.models.openairesponses.OpenAiResponsesProvider;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every adapter against the real aimock server: a streamed tool call, the tool result sent back,
 * and the final answer. Assertions avoid aimock's known deviations (usage is not checked where
 * aimock reports zeros; no ping or sequence numbers are expected).
 */
class AimockIT {
  private static AimockServer aimock;

  @BeforeAll
  static void start() throws Exception {
    aimock = AimockServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (aimock != null) {
      aimock.close();
    }
  }

  static HttpEndpoint endpoint(String provider, String path) {
    return new HttpEndpoint(
        provider,
        URI.create(aimock.baseUrl() + path),
        new SecretRef.Fixed("test-key"),
        Duration.ofSeconds(5),
        Duration.ofSeconds(20),
        Map.of());
  }

  static ModelRequest.ToolSchema weatherTool() {
    return new ModelRequest.ToolSchema(
        "get_weather",
        "Current weather for a city",
        (JsonObject)
            JsonParser.parse(
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}"));
  }

  /** Runs the two-turn tool conversation against {@code provider}. */
  static void toolRoundTrip(StreamingModelProvider provider) {
    List<Message> messages = new ArrayList<>();
    messages.add(new Message.System("You answer weather questions."));
    messages.add(new Message.User("What is the weather in Paris?"));
    List<ModelDelta> deltas = new ArrayList<>();
    ModelResponse first =
        provider.stream(
            new ModelRequest("test-model", messages, List.of(weatherTool()), Optional.empty(), 256),
            deltas::add);
    assertThat(first.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
    assertThat(first.toolCalls()).hasSize(1);
    ToolCallRequest call = first.toolCalls().getFirst();
    assertThat(call.name()).isEqualTo("get_weather");
    assertThat(call.arguments()).isEqualTo(JsonValue.object("city", "Paris"));
    assertThat(deltas)
        .anyMatch(d -> d instanceof ModelDelta.ToolCallStarted s && s.name().equals("get_weather"));

    messages.add(new Message.Assistant(first.text(), first.toolCalls()));
    messages.add(
        new Message.ToolResult(
            call.id(), call.name(), JsonValue.object("sky", "sunny", "temperature_c", 22L), false));
    List<ModelDelta> finalDeltas = new ArrayList<>();
    ModelResponse answer =
        provider.stream(
            new ModelRequest("test-model", messages, List.of(weatherTool()), Optional.empty(), 256),
            finalDeltas::add);
    assertThat(answer.finishReason()).isEqualTo(FinishReason.STOP);
    assertThat(answer.toolCalls()).isEmpty();
    assertThat(answer.text()).isEqualTo("It is sunny in Paris, 22 degrees.");
    assertThat(finalDeltas).isNotEmpty().allMatch(d -> d instanceof ModelDelta.Text);
  }

  @Test
  void openAiChatCompletions() {
    toolRoundTrip(
        new OpenAiChatProvider(endpoint("openai", "/v1"), OpenAiChatProvider.Dialect.OPENAI));
  }

  @Test
  void openAiCompatibleServerWithoutKey() {
    HttpEndpoint e = endpoint("vllm", "/v1");
    HttpEndpoint keyless =
        new HttpEndpoint(
            e.provider(),
            e.baseUrl(),
            new SecretRef.None(),
            e.connectTimeout(),
            e.requestTimeout(),
            Map.of());
    toolRoundTrip(new OpenAiChatProvider(keyless, OpenAiChatProvider.Dialect.COMPATIBLE));
  }

  @Test
  void openAiResponses() {
    toolRoundTrip(new OpenAiResponsesProvider(endpoint("openai-responses", "/v1")));
  }

  @Test
  void ollamaNativeChat() {
    toolRoundTrip(new OllamaProvider(endpoint("ollama", "")));
  }

  @Test
  void gemini() {
    toolRoundTrip(new GeminiProvider(endpoint("gemini", "")));
  }

  @Test
  void bedrockConverseStreamSignedWithSigV4() {
    BedrockProvider.AwsAuth auth =
        new BedrockProvider.AwsAuth(
            "us-east-1",
            new SecretRef.Fixed("AKIDTEST"),
            new SecretRef.Fixed("test-secret"),
            new SecretRef.None());
    HttpEndpoint e = endpoint("bedrock", "");
    HttpEndpoint unkeyed =
        new HttpEndpoint(
            e.provider(),
            e.baseUrl(),
            new SecretRef.None(),
            e.connectTimeout(),
            e.requestTimeout(),
            Map.of());
    toolRoundTrip(new BedrockProvider(unkeyed, auth));
  }

  @Test
  void anthropicMessages() {
    toolRoundTrip(new AnthropicProvider(endpoint("anthropic", "")));
  }
}
