package dev.keel.models.bedrock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.models.FixtureServer;
import dev.keel.models.ProviderConformanceTest;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.StreamingModelProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BedrockConformanceTest extends ProviderConformanceTest {
  private static final Instant NOW = Instant.parse("2026-11-22T03:00:00Z");
  private static final BedrockProvider.AwsAuth AUTH =
      new BedrockProvider.AwsAuth(
          "us-east-1",
          new SecretRef.Fixed("AKIDTEST"),
          new SecretRef.Fixed("test-secret-key"),
          new SecretRef.None());

  @Override
  protected StreamingModelProvider provider(URI baseUrl, Duration requestTimeout) {
    HttpEndpoint endpoint =
        new HttpEndpoint(
            "bedrock",
            baseUrl,
            new SecretRef.None(),
            Duration.ofSeconds(2),
            requestTimeout,
            Map.of());
    return new BedrockProvider(endpoint, AUTH, java.net.http.HttpClient.newHttpClient(), () -> NOW);
  }

  @Override
  protected String fixtureDir() {
    return "bedrock";
  }

  @Override
  protected String streamContentType() {
    return "application/vnd.amazon.eventstream";
  }

  @Override
  protected byte[] streamBody(String scenario) {
    if (scenario.equals("truncated")) {
      byte[] full = encode("text");
      return Arrays.copyOf(full, full.length - 40);
    }
    return encode(scenario);
  }

  /** Encodes the readable {@code .events} fixture into event-stream frames. */
  static byte[] encode(String scenario) {
    String lines = new String(resource("bedrock/" + scenario + ".events"), StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String line : lines.split("\n", -1)) {
      if (line.isBlank()) {
        continue;
      }
      JsonObject spec = (JsonObject) JsonParser.parse(line);
      Map<String, String> headers = new LinkedHashMap<>();
      String type = spec.string("message-type").orElseThrow();
      headers.put(":message-type", type);
      if (type.equals("event")) {
        headers.put(":event-type", spec.string("event-type").orElseThrow());
      } else {
        headers.put(":exception-type", spec.string("exception-type").orElseThrow());
      }
      headers.put(":content-type", "application/json");
      String payload =
          spec.string("raw").orElseGet(() -> spec.get("payload").orElseThrow().toString());
      out.writeBytes(EventStreamEncoder.message(headers, payload.getBytes(StandardCharsets.UTF_8)));
    }
    return out.toByteArray();
  }

  @Override
  protected String expectedPath(String model) {
    return "/model/" + model + "/converse-stream";
  }

  @Override
  protected String toolCallText() {
    return "Let me check.";
  }

  @Override
  protected List<FailureCase> failureCases() {
    // Bedrock's content filter (guardrails) ends a stream with guardrail_intervened: the refusal
    // case.
    return List.of(
        new FailureCase(
            "error-rate-limit",
            429,
            Map.of("Retry-After", "7", "x-amzn-ErrorType", "ThrottlingException"),
            Kind.RATE_LIMITED),
        new FailureCase(
            "error-overloaded",
            503,
            Map.of("x-amzn-ErrorType", "ServiceUnavailableException"),
            Kind.OVERLOADED),
        new FailureCase(
            "error-auth",
            403,
            Map.of("x-amzn-ErrorType", "UnrecognizedClientException"),
            Kind.AUTHENTICATION),
        new FailureCase(
            "error-invalid",
            400,
            Map.of("x-amzn-ErrorType", "ValidationException"),
            Kind.INVALID_REQUEST),
        new FailureCase(
            "error-context",
            400,
            Map.of("x-amzn-ErrorType", "ValidationException"),
            Kind.CONTEXT_TOO_LONG));
  }

  @Override
  protected TokenUsage textUsage() {
    return TokenUsage.of(21, 8);
  }

  @Override
  protected TokenUsage toolUsage() {
    return new TokenUsage(120, 40, 64, 0);
  }

  @Override
  protected void assertAuthenticated(FixtureServer.Recorded request) {
    URI uri = URI.create(server.baseUrl() + request.path());
    Map<String, String> signedHeaders = new LinkedHashMap<>();
    signedHeaders.put("Content-Type", request.header("Content-Type"));
    signedHeaders.put("Accept", request.header("Accept"));
    Map<String, String> expected =
        new SigV4Signer("us-east-1", "bedrock")
            .sign(
                "POST",
                uri,
                signedHeaders,
                request.body().getBytes(StandardCharsets.UTF_8),
                NOW,
                new SigV4Signer.Credentials("AKIDTEST", "test-secret-key", Optional.empty()));
    assertThat(request.header("X-Amz-Date")).isEqualTo("20261122T030000Z");
    assertThat(request.header("Authorization"))
        .startsWith("AWS4-HMAC-SHA256 Credential=AKIDTEST/20261122/us-east-1/bedrock/aws4_request")
        .isEqualTo(expected.get("Authorization"));
  }

  @Override
  protected void assertToolRoundTripEncoded(JsonObject body) {
    assertThat(body.get("system"))
        .contains(JsonArray.of(JsonValue.object("text", "You are terse.")));
    JsonArray messages = (JsonArray) body.get("messages").orElseThrow();
    assertThat(messages.items()).hasSize(3);
    assertThat(messages.items().get(1))
        .isEqualTo(
            JsonValue.object(
                "role",
                "assistant",
                "content",
                JsonArray.of(
                    JsonValue.object(
                        "toolUse",
                        JsonValue.object(
                            "toolUseId",
                            "call_w1",
                            "name",
                            "get_weather",
                            "input",
                            JsonValue.object("city", "Paris"))))));
    assertThat(messages.items().get(2))
        .isEqualTo(
            JsonValue.object(
                "role",
                "user",
                "content",
                JsonArray.of(
                    JsonValue.object(
                        "toolResult",
                        JsonValue.object(
                            "toolUseId", "call_w1",
                            "content",
                                JsonArray.of(
                                    JsonValue.object(
                                        "json",
                                        JsonValue.object("sky", "clear", "temperature_c", 22L))),
                            "status", "success")))));
    assertThat(body.get("inferenceConfig")).contains(JsonValue.object("maxTokens", 512L));
    assertThat(body.get("toolConfig").orElseThrow().toString())
        .contains("\"inputSchema\":{\"json\":");
  }

  @Override
  protected void assertStructuredRequest(JsonObject body, JsonObject schema) {
    JsonObject toolConfig = (JsonObject) body.get("toolConfig").orElseThrow();
    assertThat(toolConfig.get("toolChoice"))
        .contains(
            JsonValue.object("tool", JsonValue.object("name", BedrockProvider.STRUCTURED_TOOL)));
    assertThat(toolConfig.toString()).contains(schema.toString());
  }

  @Test
  void decodesAStreamRecordedFromAnIndependentImplementation() {
    ModelResponse r =
        new BedrockStream(new ResponseAssembler("bedrock", "m", d -> {}), "bedrock")
            .read(new ByteArrayInputStream(resource("bedrock/aimock-tool-call.bin")));
    assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
    assertThat(r.toolCalls())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.name()).isEqualTo("get_weather");
              assertThat(c.arguments()).isEqualTo(JsonValue.object("city", "Paris"));
            });
    assertThat(r.usage()).isEqualTo(TokenUsage.of(30, 12));
  }

  @Test
  void corruptedChecksumIsMalformed() {
    byte[] frames = encode("text");
    frames[20] ^= 0x01;
    assertThatThrownBy(
            () ->
                new BedrockStream(new ResponseAssembler("bedrock", "m", d -> {}), "bedrock")
                    .read(new ByteArrayInputStream(frames)))
        .isInstanceOfSatisfying(
            ModelException.class, e -> assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE))
        .hasMessageContaining("checksum");
  }

  @Test
  void throttlingExceptionInTheStreamIsRateLimited() {
    assertThat(
            BedrockStream.classify("bedrock", "throttlingException", "{\"message\":\"slow down\"}")
                .kind())
        .isEqualTo(Kind.RATE_LIMITED);
    assertThat(
            BedrockStream.classify(
                    "bedrock", "validationException", "Input is too long for requested model.")
                .kind())
        .isEqualTo(Kind.CONTEXT_TOO_LONG);
  }
}
