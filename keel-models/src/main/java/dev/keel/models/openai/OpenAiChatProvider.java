package dev.keel.models.openai;

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
 * OpenAI Chat Completions ({@code POST /chat/completions}, streamed with {@code stream_options.
 * include_usage}). With {@link Dialect#COMPATIBLE} it speaks to OpenAI-compatible servers (vLLM,
 * llama.cpp, LM Studio, Ollama's {@code /v1}): {@code max_tokens} instead of {@code
 * max_completion_tokens}, and the key is optional.
 */
public final class OpenAiChatProvider implements StreamingModelProvider {

  /** Which flavour of the protocol the server speaks. */
  public enum Dialect {
    /** api.openai.com: {@code max_completion_tokens}, key required. */
    OPENAI,
    /** Compatible servers: {@code max_tokens}, key optional. */
    COMPATIBLE
  }

  private final HttpEndpoint endpoint;
  private final Dialect dialect;
  private final HttpTransport transport;

  /** Creates an adapter for {@code endpoint} with its own HTTP client and the system clock. */
  public OpenAiChatProvider(HttpEndpoint endpoint, Dialect dialect) {
    this(
        endpoint,
        dialect,
        HttpTransport.newClient(endpoint.connectTimeout()),
        InstantSource.system());
  }

  /** Creates an adapter for {@code endpoint} over {@code client}. */
  public OpenAiChatProvider(
      HttpEndpoint endpoint, Dialect dialect, HttpClient client, InstantSource clock) {
    this.endpoint = endpoint;
    this.dialect = dialect;
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
    if (dialect == Dialect.OPENAI) {
      headers.put("Authorization", "Bearer " + endpoint.requireKey());
    } else {
      endpoint.apiKey().resolve().ifPresent(key -> headers.put("Authorization", "Bearer " + key));
    }
    byte[] body = requestBody(request, dialect).toString().getBytes(StandardCharsets.UTF_8);
    InputStream in =
        transport.post(
            endpoint.resolve("/chat/completions"), headers, body, endpoint.requestTimeout());
    OpenAiChatStream decoder =
        new OpenAiChatStream(new ResponseAssembler(name(), request.model(), deltas), name());
    StreamSupport.readSse(name(), in, decoder);
    return decoder.result();
  }

  /** The JSON body for {@code request}. */
  static JsonObject requestBody(ModelRequest request, Dialect dialect) {
    Map<String, JsonValue> body = new LinkedHashMap<>();
    body.put("model", JsonValue.of(request.model()));
    body.put("messages", messages(request.messages()));
    body.put(
        dialect == Dialect.OPENAI ? "max_completion_tokens" : "max_tokens",
        JsonValue.of(request.maxOutputTokens()));
    body.put("stream", JsonValue.TRUE);
    body.put("stream_options", JsonValue.object("include_usage", true));
    if (!request.tools().isEmpty()) {
      List<JsonValue> tools = new ArrayList<>();
      for (ModelRequest.ToolSchema tool : request.tools()) {
        tools.add(
            JsonValue.object(
                "type",
                "function",
                "function",
                JsonValue.object(
                    "name", tool.name(),
                    "description", tool.description(),
                    "parameters", tool.inputSchema())));
      }
      body.put("tools", new JsonArray(tools));
    }
    request
        .outputSchema()
        .ifPresent(
            schema ->
                body.put(
                    "response_format",
                    JsonValue.object(
                        "type",
                        "json_schema",
                        "json_schema",
                        JsonValue.object("name", "output", "schema", schema))));
    return new JsonObject(body);
  }

  private static JsonArray messages(List<Message> messages) {
    List<JsonValue> out = new ArrayList<>();
    for (Message m : messages) {
      out.add(
          switch (m) {
            case Message.System s -> JsonValue.object("role", "system", "content", s.text());
            case Message.User u -> JsonValue.object("role", "user", "content", u.text());
            case Message.Assistant a -> assistant(a);
            case Message.ToolResult r ->
                JsonValue.object(
                    "role", "tool", "tool_call_id", r.callId(), "content", ToolResultText.of(r));
          });
    }
    return new JsonArray(out);
  }

  private static JsonObject assistant(Message.Assistant a) {
    Map<String, JsonValue> msg = new LinkedHashMap<>();
    msg.put("role", JsonValue.of("assistant"));
    msg.put(
        "content",
        a.text().isEmpty() && !a.toolCalls().isEmpty() ? JsonValue.NULL : JsonValue.of(a.text()));
    if (!a.toolCalls().isEmpty()) {
      msg.put(
          "tool_calls",
          new JsonArray(
              a.toolCalls().stream()
                  .map(
                      c ->
                          (JsonValue)
                              JsonValue.object(
                                  "id",
                                  c.id(),
                                  "type",
                                  "function",
                                  "function",
                                  JsonValue.object(
                                      "name", c.name(), "arguments", c.arguments().toString())))
                  .toList()));
    }
    return new JsonObject(msg);
  }
}
