package dev.keel.models.gemini;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.models.ModelDelta;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.StreamSupport;
import dev.keel.models.StreamingModelProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.HttpTransport;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Google Gemini ({@code POST /v1beta/models/{model}:streamGenerateContent?alt=sse}, key in {@code
 * x-goog-api-key}). System messages become {@code systemInstruction}; consecutive turns of one role
 * are merged; tool results go back as {@code functionResponse} parts whose {@code response} holds
 * {@code output} (or {@code error}). Tool and output schemas are sent as JSON Schema ({@code
 * parametersJsonSchema}, {@code responseJsonSchema}).
 */
public final class GeminiProvider implements StreamingModelProvider {
  private final HttpEndpoint endpoint;
  private final HttpTransport transport;

  /**
   * Creates an adapter for {@code endpoint} (base URL such as {@code
   * https://generativelanguage.googleapis.com}).
   */
  public GeminiProvider(HttpEndpoint endpoint) {
    this(endpoint, HttpTransport.newClient(endpoint.connectTimeout()), InstantSource.system());
  }

  /** Creates an adapter for {@code endpoint} over {@code client}. */
  public GeminiProvider(HttpEndpoint endpoint, HttpClient client, InstantSource clock) {
    this.endpoint = endpoint;
    this.transport = new HttpTransport(endpoint.provider(), client, clock);
  }

  @Override
  public String name() {
    return endpoint.provider();
  }

  @Override
  public ModelResponse stream(ModelRequest request, Consumer<ModelDelta> deltas) {
    Map<String, String> headers = new LinkedHashMap<>(endpoint.headers());
    headers.put("Content-Type", "application/json");
    headers.put("Accept", "text/event-stream");
    headers.put("x-goog-api-key", endpoint.requireKey());
    byte[] body = requestBody(request).toString().getBytes(StandardCharsets.UTF_8);
    String path =
        "/v1beta/models/"
            + URLEncoder.encode(request.model(), StandardCharsets.UTF_8)
            + ":streamGenerateContent?alt=sse";
    InputStream in =
        transport.post(endpoint.resolve(path), headers, body, endpoint.requestTimeout());
    GeminiStream decoder =
        new GeminiStream(new ResponseAssembler(name(), request.model(), deltas), name());
    StreamSupport.readSse(name(), in, decoder);
    return decoder.result();
  }

  /** The JSON body for {@code request}. */
  static JsonObject requestBody(ModelRequest request) {
    Map<String, JsonValue> body = new LinkedHashMap<>();
    List<JsonValue> system = new ArrayList<>();
    List<JsonValue> contents = new ArrayList<>();
    String role = "";
    List<JsonValue> parts = new ArrayList<>();
    for (Message m : request.messages()) {
      if (m instanceof Message.System s) {
        system.add(JsonValue.object("text", s.text()));
        continue;
      }
      String next = m instanceof Message.Assistant ? "model" : "user";
      if (!next.equals(role) && !parts.isEmpty()) {
        contents.add(JsonValue.object("role", role, "parts", new JsonArray(parts)));
        parts = new ArrayList<>();
      }
      role = next;
      parts.addAll(parts(m));
    }
    if (!parts.isEmpty()) {
      contents.add(JsonValue.object("role", role, "parts", new JsonArray(parts)));
    }
    body.put("contents", new JsonArray(contents));
    if (!system.isEmpty()) {
      body.put("systemInstruction", JsonValue.object("parts", new JsonArray(system)));
    }
    if (!request.tools().isEmpty()) {
      List<JsonValue> declarations =
          request.tools().stream()
              .map(
                  t ->
                      (JsonValue)
                          JsonValue.object(
                              "name",
                              t.name(),
                              "description",
                              t.description(),
                              "parametersJsonSchema",
                              t.inputSchema()))
              .toList();
      body.put(
          "tools",
          JsonArray.of(JsonValue.object("functionDeclarations", new JsonArray(declarations))));
    }
    Map<String, JsonValue> config = new LinkedHashMap<>();
    config.put("maxOutputTokens", JsonValue.of(request.maxOutputTokens()));
    request
        .outputSchema()
        .ifPresent(
            schema -> {
              config.put("responseMimeType", JsonValue.of("application/json"));
              config.put("responseJsonSchema", schema);
            });
    body.put("generationConfig", new JsonObject(config));
    return new JsonObject(body);
  }

  private static List<JsonValue> parts(Message m) {
    return switch (m) {
      case Message.System s -> List.of();
      case Message.User u -> List.of(JsonValue.object("text", u.text()));
      case Message.Assistant a -> {
        List<JsonValue> out = new ArrayList<>();
        if (!a.text().isEmpty()) {
          out.add(JsonValue.object("text", a.text()));
        }
        for (var call : a.toolCalls()) {
          out.add(
              JsonValue.object(
                  "functionCall", JsonValue.object("name", call.name(), "args", call.arguments())));
        }
        yield out;
      }
      case Message.ToolResult r ->
          List.of(
              JsonValue.object(
                  "functionResponse",
                  JsonValue.object(
                      "name",
                      r.toolName(),
                      "response",
                      JsonValue.object(r.isError() ? "error" : "output", r.content()))));
    };
  }
}
