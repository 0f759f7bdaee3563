package dev.keel.models.openairesponses;

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
 * OpenAI Responses ({@code POST /responses}, streamed, {@code store: false} so no conversation
 * state is kept at the provider). Tool calls are {@code function_call} output items; tool results
 * go back as {@code function_call_output} input items; a schema goes to {@code text.format}.
 */
public final class OpenAiResponsesProvider implements StreamingModelProvider {
  private final HttpEndpoint endpoint;
  private final HttpTransport transport;

  /**
   * Creates an adapter for {@code endpoint} (base URL such as {@code https://api.openai.com/v1}).
   */
  public OpenAiResponsesProvider(HttpEndpoint endpoint) {
    this(endpoint, HttpTransport.newClient(endpoint.connectTimeout()), InstantSource.system());
  }

  /** Creates an adapter for {@code endpoint} over {@code client}. */
  public OpenAiResponsesProvider(HttpEndpoint endpoint, HttpClient client, InstantSource clock) {
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
    headers.put("Authorization", "Bearer " + endpoint.requireKey());
    byte[] body = requestBody(request).toString().getBytes(StandardCharsets.UTF_8);
    InputStream in =
        transport.post(endpoint.resolve("/responses"), headers, body, endpoint.requestTimeout());
    OpenAiResponsesStream decoder =
        new OpenAiResponsesStream(new ResponseAssembler(name(), request.model(), deltas), name());
    StreamSupport.readSse(name(), in, decoder);
    return decoder.result();
  }

  /** The JSON body for {@code request}. */
  static JsonObject requestBody(ModelRequest request) {
    Map<String, JsonValue> body = new LinkedHashMap<>();
    body.put("model", JsonValue.of(request.model()));
    List<JsonValue> input = new ArrayList<>();
    for (Message m : request.messages()) {
      switch (m) {
        case Message.System s -> input.add(JsonValue.object("role", "system", "content", s.text()));
        case Message.User u -> input.add(JsonValue.object("role", "user", "content", u.text()));
        case Message.Assistant a -> {
          if (!a.text().isEmpty()) {
            input.add(JsonValue.object("role", "assistant", "content", a.text()));
          }
          for (var call : a.toolCalls()) {
            input.add(
                JsonValue.object(
                    "type", "function_call",
                    "call_id", call.id(),
                    "name", call.name(),
                    "arguments", call.arguments().toString()));
          }
        }
        case Message.ToolResult r ->
            input.add(
                JsonValue.object(
                    "type",
                    "function_call_output",
                    "call_id",
                    r.callId(),
                    "output",
                    ToolResultText.of(r)));
      }
    }
    body.put("input", new JsonArray(input));
    body.put("max_output_tokens", JsonValue.of(request.maxOutputTokens()));
    body.put("stream", JsonValue.TRUE);
    body.put("store", JsonValue.FALSE);
    if (!request.tools().isEmpty()) {
      body.put(
          "tools",
          new JsonArray(
              request.tools().stream()
                  .map(
                      t ->
                          (JsonValue)
                              JsonValue.object(
                                  "type", "function",
                                  "name", t.name(),
                                  "description", t.description(),
                                  "parameters", t.inputSchema(),
                                  "strict", false))
                  .toList()));
    }
    request
        .outputSchema()
        .ifPresent(
            schema ->
                body.put(
                    "text",
                    JsonValue.object(
                        "format",
                        JsonValue.object(
                            "type",
                            "json_schema",
                            "name",
                            "output",
                            "schema",
                            schema,
                            "strict",
                            false))));
    return new JsonObject(body);
  }
}
