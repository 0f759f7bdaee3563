package dev.keel.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The conformance suite every adapter passes, against recorded wire fixtures served by a local HTTP
 * server. Each adapter's fixtures live under {@code fixtures/<dir>/} and tell the same stories: a
 * plain answer, two parallel tool calls with arguments split across chunks, a structured answer, a
 * refusal, a malformed and a truncated stream, an error inside the stream and one error body per
 * failure class.
 */
public abstract class ProviderConformanceTest {
  /** The answer every "text" fixture streams. */
  protected static final String TEXT = "The capital of France is Paris.";

  protected FixtureServer server;

  /** The adapter under test, pointed at {@code baseUrl} with {@code requestTimeout}. */
  protected abstract StreamingModelProvider provider(URI baseUrl, Duration requestTimeout);

  /** The fixture directory under {@code fixtures/}. */
  protected abstract String fixtureDir();

  /** The path (with query) the adapter posts a streamed call for {@code model} to. */
  protected abstract String expectedPath(String model);

  /** The usage the "text" fixture reports, normalized. */
  protected abstract TokenUsage textUsage();

  /** The usage the "tool-calls" fixture reports, normalized. */
  protected abstract TokenUsage toolUsage();

  /** Checks how the adapter sent the tool call and tool result of {@link #conversation()}. */
  protected abstract void assertToolRoundTripEncoded(JsonObject body);

  /** Checks how the adapter sent the structured-output schema. */
  protected abstract void assertStructuredRequest(JsonObject body, JsonObject schema);

  /** Checks the adapter sent its credentials. */
  protected abstract void assertAuthenticated(FixtureServer.Recorded request);

  /** The content type of the streamed body. */
  protected String streamContentType() {
    return "text/event-stream";
  }

  /** The file extension of streamed fixtures. */
  protected String streamExtension() {
    return "sse";
  }

  /** The bytes of streamed fixture {@code scenario}; binary protocols encode here. */
  protected byte[] streamBody(String scenario) {
    return resource(fixtureDir() + "/" + scenario + "." + streamExtension());
  }

  /** Whether the provider reports tool call ids (Ollama and older Gemini do not). */
  protected boolean providerGivesCallIds() {
    return true;
  }

  /** Text the "tool-calls" fixture streams before its calls. */
  protected String toolCallText() {
    return "";
  }

  /** How the "refusal" fixture ends; providers without refusals answer it as plain text. */
  protected FinishReason refusalFinish() {
    return FinishReason.CONTENT_FILTER;
  }

  /** The HTTP status the provider uses for overload. */
  protected int overloadedStatus() {
    return 503;
  }

  /** The failure cases: status, error body file and expected kind. */
  protected List<FailureCase> failureCases() {
    return List.of(
        new FailureCase("error-rate-limit", 429, Map.of("Retry-After", "7"), Kind.RATE_LIMITED),
        new FailureCase("error-overloaded", overloadedStatus(), Map.of(), Kind.OVERLOADED),
        new FailureCase("error-auth", 401, Map.of(), Kind.AUTHENTICATION),
        new FailureCase("error-invalid", 400, Map.of(), Kind.INVALID_REQUEST),
        new FailureCase("error-context", 400, Map.of(), Kind.CONTEXT_TOO_LONG),
        new FailureCase("error-content-filter", 400, Map.of(), Kind.CONTENT_FILTERED));
  }

  /** One error reply and the kind it must classify as. */
  public record FailureCase(String file, int status, Map<String, String> headers, Kind expected) {
    @Override
    public String toString() {
      return file + " -> " + expected;
    }
  }

  @BeforeEach
  void startServer() {
    server = new FixtureServer();
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  protected static ModelRequest ask(String text) {
    return new ModelRequest(
        "test-model",
        List.of(new Message.System("You are terse."), new Message.User(text)),
        List.of(),
        Optional.empty(),
        512);
  }

  protected static List<ModelRequest.ToolSchema> tools() {
    return List.of(
        new ModelRequest.ToolSchema(
            "get_weather",
            "Current weather for a city",
            (JsonObject)
                JsonParser.parse(
                    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}")),
        new ModelRequest.ToolSchema(
            "get_time",
            "Current time in a time zone",
            (JsonObject)
                JsonParser.parse(
                    "{\"type\":\"object\",\"properties\":{\"timezone\":{\"type\":\"string\"}},\"required\":[\"timezone\"]}")));
  }

  /** A conversation with a finished tool round: user, assistant tool call, tool result. */
  protected static ModelRequest conversation() {
    return new ModelRequest(
        "test-model",
        List.of(
            new Message.System("You are terse."),
            new Message.User("What is the weather in Paris?"),
            new Message.Assistant(
                "",
                List.of(
                    new ToolCallRequest(
                        "call_w1", "get_weather", JsonValue.object("city", "Paris")))),
            new Message.ToolResult(
                "call_w1",
                "get_weather",
                JsonValue.object("temperature_c", 22L, "sky", "clear"),
                false)),
        tools(),
        Optional.empty(),
        512);
  }

  protected static byte[] resource(String path) {
    try (InputStream in = ProviderConformanceTest.class.getResourceAsStream("/fixtures/" + path)) {
      if (in == null) {
        throw new IllegalStateException("missing test fixture fixtures/" + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read fixture " + path, e);
    }
  }

  private void serve(String scenario) {
    server.enqueue(FixtureServer.Reply.ok(streamContentType(), streamBody(scenario)));
  }

  private StreamingModelProvider provider() {
    return provider(server.baseUrl(), Duration.ofSeconds(10));
  }

  private JsonObject lastBody() {
    return (JsonObject) JsonParser.parse(server.lastRequest().body());
  }

  @Test
  void plainTextStreamsAndAssembles() {
    serve("text");
    List<ModelDelta> deltas = new ArrayList<>();
    ModelResponse r = provider().stream(ask("What is the capital of France?"), deltas::add);
    assertThat(r.text()).isEqualTo(TEXT);
    assertThat(r.toolCalls()).isEmpty();
    assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
    assertThat(r.usage()).isEqualTo(textUsage());
    assertThat(deltas).hasSizeGreaterThan(1).allMatch(d -> d instanceof ModelDelta.Text);
    assertThat(deltas.stream().map(d -> ((ModelDelta.Text) d).text()).reduce("", String::concat))
        .isEqualTo(TEXT);
    FixtureServer.Recorded req = server.lastRequest();
    assertThat(req.method()).isEqualTo("POST");
    assertThat(req.path()).isEqualTo(expectedPath("test-model"));
    assertAuthenticated(req);
    assertThat(req.body()).contains("What is the capital of France?").contains("You are terse.");
  }

  @Test
  void completeReturnsWhatStreamReturns() {
    serve("text");
    serve("text");
    ModelResponse streamed = provider().stream(ask("q"), d -> {});
    ModelResponse completed = provider().complete(ask("q"));
    assertThat(completed).isEqualTo(streamed);
  }

  @Test
  void parallelToolCallsWithArgumentsSplitAcrossChunks() {
    serve("tool-calls");
    List<ModelDelta> deltas = new ArrayList<>();
    ModelRequest request =
        new ModelRequest(
            "test-model",
            List.of(new Message.User("Weather and time in Paris?")),
            tools(),
            Optional.empty(),
            512);
    ModelResponse r = provider().stream(request, deltas::add);
    assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
    assertThat(r.text()).isEqualTo(toolCallText());
    assertThat(r.toolCalls())
        .extracting(ToolCallRequest::name)
        .containsExactly("get_weather", "get_time");
    assertThat(r.toolCalls().get(0).arguments()).isEqualTo(JsonValue.object("city", "Paris"));
    assertThat(r.toolCalls().get(1).arguments())
        .isEqualTo(JsonValue.object("timezone", "Europe/Paris"));
    assertThat(r.toolCalls())
        .extracting(ToolCallRequest::id)
        .doesNotHaveDuplicates()
        .allMatch(id -> !id.isBlank());
    if (providerGivesCallIds()) {
      assertThat(r.toolCalls())
          .extracting(ToolCallRequest::id)
          .containsExactly("call_w1", "call_t1");
    }
    assertThat(r.usage()).isEqualTo(toolUsage());
    List<ModelDelta.ToolCallStarted> started =
        deltas.stream()
            .filter(ModelDelta.ToolCallStarted.class::isInstance)
            .map(ModelDelta.ToolCallStarted.class::cast)
            .toList();
    assertThat(started).extracting(ModelDelta.ToolCallStarted::index).containsExactly(0, 1);
    for (int i = 0; i < 2; i++) {
      int index = i;
      String joined =
          deltas.stream()
              .filter(d -> d instanceof ModelDelta.ToolCallArguments a && a.index() == index)
              .map(d -> ((ModelDelta.ToolCallArguments) d).fragment())
              .reduce("", String::concat);
      assertThat(JsonParser.parse(joined)).isEqualTo(r.toolCalls().get(i).arguments());
    }
    assertThat(server.lastRequest().body())
        .contains("get_weather")
        .contains("Current time in a time zone");
  }

  @Test
  void toolResultIsSentBackAsLabelledData() {
    serve("text");
    ModelResponse r = provider().complete(conversation());
    assertThat(r.text()).isEqualTo(TEXT);
    assertToolRoundTripEncoded(lastBody());
  }

  @Test
  void structuredOutputSendsTheSchemaAndReturnsJsonText() {
    serve("structured");
    JsonObject schema =
        (JsonObject)
            JsonParser.parse(
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"temperature_c\":{\"type\":\"integer\"}},\"required\":[\"city\",\"temperature_c\"]}");
    ModelRequest request =
        new ModelRequest(
            "test-model",
            List.of(new Message.User("Weather in Paris as JSON")),
            List.of(),
            Optional.of(schema),
            512);
    ModelResponse r = provider().complete(request);
    assertThat(JsonParser.parse(r.text()))
        .isEqualTo(JsonValue.object("city", "Paris", "temperature_c", 22L));
    assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
    assertThat(r.toolCalls()).isEmpty();
    assertStructuredRequest(lastBody(), schema);
  }

  @Test
  void refusalEndsWithContentFilter() {
    serve("refusal");
    ModelResponse r = provider().complete(ask("something disallowed"));
    assertThat(r.finishReason()).isEqualTo(refusalFinish());
  }

  @TestFactory
  Stream<DynamicTest> errorResponsesAreClassified() {
    return failureCases().stream()
        .map(c -> DynamicTest.dynamicTest(c.toString(), () -> errorResponseIsClassified(c)));
  }

  private void errorResponseIsClassified(FailureCase c) {
    java.util.Map<String, String> headers = new java.util.HashMap<>(c.headers());
    headers.put("Content-Type", "application/json");
    server.enqueue(
        new FixtureServer.Reply(
            c.status(), headers, resource(fixtureDir() + "/" + c.file() + ".json"), 0));
    assertThatThrownBy(() -> provider().complete(ask("q")))
        .isInstanceOfSatisfying(
            ModelException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(c.expected());
              assertThat(e.retryable()).isEqualTo(c.expected().retryable());
              assertThat(e.getMessage())
                  .contains(provider().name())
                  .contains(String.valueOf(c.status()));
              if (c.headers().containsKey("Retry-After")) {
                assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
              }
            });
  }

  @Test
  void errorInsideTheStreamIsClassified() {
    serve("stream-error");
    assertThatThrownBy(() -> provider().complete(ask("q")))
        .isInstanceOfSatisfying(
            ModelException.class, e -> assertThat(e.kind()).isEqualTo(Kind.OVERLOADED));
  }

  @Test
  void malformedJsonInTheStreamIsAMalformedResponse() {
    serve("malformed");
    assertThatThrownBy(() -> provider().complete(ask("q")))
        .isInstanceOfSatisfying(
            ModelException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE);
              assertThat(e.retryable()).isTrue();
            });
  }

  @Test
  void truncatedStreamIsAMalformedResponseNotAPartialAnswer() {
    serve("truncated");
    List<ModelDelta> deltas = new ArrayList<>();
    assertThatThrownBy(() -> provider().stream(ask("q"), deltas::add))
        .isInstanceOfSatisfying(
            ModelException.class, e -> assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE));
  }

  @Test
  void noAnswerInTimeIsATimeout() {
    server.enqueue(
        new FixtureServer.Reply(
            200, Map.of("Content-Type", streamContentType()), streamBody("text"), 1500));
    assertThatThrownBy(() -> provider(server.baseUrl(), Duration.ofMillis(200)).complete(ask("q")))
        .isInstanceOfSatisfying(
            ModelException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TIMEOUT));
  }

  @Test
  void refusedConnectionIsATimeoutKind() {
    URI closed = server.baseUrl();
    server.close();
    try {
      provider(closed, Duration.ofSeconds(2)).complete(ask("q"));
      fail("expected a failure");
    } catch (ModelException e) {
      assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
      assertThat(e.retryable()).isTrue();
    }
    server = new FixtureServer();
  }

  /** Parses a fixture as UTF-8 text. */
  protected static String text(String path) {
    return new String(resource(path), StandardCharsets.UTF_8);
  }
}
