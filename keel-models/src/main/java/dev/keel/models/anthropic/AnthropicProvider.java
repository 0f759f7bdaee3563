package dev.keel.models.anthropic;

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
import dev.keel.models.ToolResultText;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.HttpTransport;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Anthropic Messages ({@code POST /v1/messages}, streamed). System messages go to the top-level
 * {@code system}; consecutive messages of one role are merged into one message of content blocks,
 * as the API requires alternating roles. A structured-output schema becomes one forced tool,
 * {@value #STRUCTURED_TOOL}, whose input is returned as the answer's text.
 */
public final class AnthropicProvider implements StreamingModelProvider {
  /** The tool name used to force structured output. */
  public static final String STRUCTURED_TOOL = "keel_structured_output";

  private static final String API_VERSION = "2023-06-01";

  private final HttpEndpoint endpoint;
  private final HttpTransport transport;

  /**
   * Creates an adapter for {@code endpoint} (base URL such as {@code https://api.anthropic.com}).
   */
  public AnthropicProvider(HttpEndpoint endpoint) {
    this(endpoint, HttpTransport.newClient(endpoint.connectTimeout()), InstantSource.system());
  }

  /** Creates an adapter for {@code endpoint} over {@code client}. */
  public AnthropicProvider(HttpEndpoint endpoint, HttpClient client, InstantSource clock) {
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
    headers.put("x-api-key", endpoint.requireKey());
    headers.putIfAbsent("anthropic-version", API_VERSION);
    byte[] body = requestBody(request).toString().getBytes(StandardCharsets.UTF_8);
    InputStream in =
        transport.post(endpoint.resolve("/v1/messages"), headers, body, endpoint.requestTimeout());
    AnthropicStream decoder =
        new AnthropicStream(new ResponseAssembler(name(), request.model(), deltas), name());
    StreamSupport.readSse(name(), in, decoder);
    return decoder.result();
  }

  /** The JSON body for {@code request}. */
  static JsonObject requestBody(ModelRequest request) {
    Map<String, JsonValue> body = new LinkedHashMap<>();
    body.put("model", JsonValue.of(request.model()));
    body.put("max_tokens", JsonValue.of(request.maxOutputTokens()));
    body.put("stream", JsonValue.TRUE);
    StringBuilder system = new StringBuilder();
    List<JsonValue> messages = new ArrayList<>();
    String role = "";
    List<JsonValue> blocks = new ArrayList<>();
    for (Message m : request.messages()) {
      String next =
          switch (m) {
            case Message.System s -> "system";
            case Message.User u -> "user";
            case Message.ToolResult r -> "user";
            case Message.Assistant a -> "assistant";
          };
      if (next.equals("system")) {
        if (m instanceof Message.System s) {
          system.append(system.isEmpty() ? "" : "\n\n").append(s.text());
        }
        continue;
      }
      if (!next.equals(role) && !blocks.isEmpty()) {
        messages.add(JsonValue.object("role", role, "content", new JsonArray(blocks)));
        blocks = new ArrayList<>();
      }
      role = next;
      blocks.addAll(blocks(m));
    }
    if (!blocks.isEmpty()) {
      messages.add(JsonValue.object("role", role, "content", new JsonArray(blocks)));
    }
    if (!system.isEmpty()) {
      body.put("system", JsonValue.of(system.toString()));
    }
    body.put("messages", new JsonArray(messages));
    List<JsonValue> tools = new ArrayList<>();
    for (ModelRequest.ToolSchema tool : request.tools()) {
      tools.add(
          JsonValue.object(
              "name", tool.name(),
              "description", tool.description(),
              "input_schema", tool.inputSchema()));
    }
    request
        .outputSchema()
        .ifPresent(
            schema -> {
              tools.add(
                  JsonValue.object(
                      "name", STRUCTURED_TOOL,
                      "description", "Return the final answer as JSON matching this schema.",
                      "input_schema", schema));
              body.put("tool_choice", JsonValue.object("type", "tool", "name", STRUCTURED_TOOL));
            });
    if (!tools.isEmpty()) {
      body.put("tools", new JsonArray(tools));
    }
    return new JsonObject(body);
  }

  private static List<JsonValue> blocks(Message m) {
    return switch (m) {
      case Message.System s -> List.of();
      case Message.User u -> List.of(JsonValue.object("type", "text", "text", u.text()));
      case Message.ToolResult r ->
          List.of(
              JsonValue.object(
                  "type", "tool_result",
                  "tool_use_id", r.callId(),
                  "content", ToolResultText.of(r),
                  "is_error", r.isError()));
      case Message.Assistant a -> {
        List<JsonValue> out = new ArrayList<>();
        if (!a.text().isEmpty()) {
          out.add(JsonValue.object("type", "text", "text", a.text()));
        }
        for (var call : a.toolCalls()) {
          out.add(
              JsonValue.object(
                  "type",
                  "tool_use",
                  "id",
                  call.id(),
                  "name",
                  call.name(),
                  "input",
                  call.arguments()));
        }
        yield out;
      }
    };
  }
}
