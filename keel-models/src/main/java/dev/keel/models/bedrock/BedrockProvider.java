package dev.keel.models.bedrock;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.models.ModelDelta;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.StreamingModelProvider;
import dev.keel.models.ToolResultText;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.HttpTransport;
import dev.keel.models.http.SecretRef;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * AWS Bedrock Converse ({@code POST /model/{modelId}/converse-stream}), signed with SigV4 from the
 * access key, secret and optional session token references, or, when the endpoint's key resolves,
 * sent with a Bedrock API key as a bearer token. A structured-output schema becomes one forced
 * tool, as Converse has no schema parameter (forced tool choice works on Anthropic and Mistral
 * Large models).
 */
public final class BedrockProvider implements StreamingModelProvider {
  /** The tool name used to force structured output. */
  public static final String STRUCTURED_TOOL = "keel_structured_output";

  /**
   * Where the AWS credentials come from.
   *
   * @param region the AWS region, such as {@code us-east-1}
   * @param accessKeyId the access key id
   * @param secretAccessKey the secret access key
   * @param sessionToken the session token, {@link SecretRef.None} for long-term keys
   */
  public record AwsAuth(
      String region, SecretRef accessKeyId, SecretRef secretAccessKey, SecretRef sessionToken) {
    /** Reads the standard {@code AWS_*} environment variables for {@code region}. */
    public static AwsAuth fromEnvironment(String region) {
      return new AwsAuth(
          region,
          SecretRef.parse("env:AWS_ACCESS_KEY_ID"),
          SecretRef.parse("env:AWS_SECRET_ACCESS_KEY"),
          SecretRef.parse("env:AWS_SESSION_TOKEN"));
    }
  }

  private final HttpEndpoint endpoint;
  private final AwsAuth auth;
  private final SigV4Signer signer;
  private final HttpTransport transport;
  private final InstantSource clock;

  /**
   * Creates an adapter for {@code endpoint} (base URL such as {@code
   * https://bedrock-runtime.us-east-1.amazonaws.com}).
   */
  public BedrockProvider(HttpEndpoint endpoint, AwsAuth auth) {
    this(
        endpoint, auth, HttpTransport.newClient(endpoint.connectTimeout()), InstantSource.system());
  }

  /** Creates an adapter for {@code endpoint} over {@code client}, signing with {@code clock}. */
  public BedrockProvider(
      HttpEndpoint endpoint, AwsAuth auth, HttpClient client, InstantSource clock) {
    this.endpoint = endpoint;
    this.auth = auth;
    this.signer = new SigV4Signer(auth.region(), "bedrock");
    this.transport = new HttpTransport(endpoint.provider(), client, clock);
    this.clock = clock;
  }

  @Override
  public String name() {
    return endpoint.provider();
  }

  @Override
  public ModelResponse stream(ModelRequest request, Consumer<ModelDelta> deltas) {
    byte[] body = requestBody(request).toString().getBytes(StandardCharsets.UTF_8);
    URI uri =
        endpoint.resolve(
            "/model/"
                + URLEncoder.encode(request.model(), StandardCharsets.UTF_8)
                + "/converse-stream");
    Map<String, String> headers = new LinkedHashMap<>(endpoint.headers());
    headers.put("Content-Type", "application/json");
    headers.put("Accept", "application/vnd.amazon.eventstream");
    Optional<String> apiKey = endpoint.apiKey().resolve();
    if (apiKey.isPresent()) {
      headers.put("Authorization", "Bearer " + apiKey.get());
    } else {
      headers.putAll(signer.sign("POST", uri, headers, body, clock.instant(), credentials()));
    }
    InputStream in = transport.post(uri, headers, body, endpoint.requestTimeout());
    return new BedrockStream(new ResponseAssembler(name(), request.model(), deltas), name())
        .read(in);
  }

  private SigV4Signer.Credentials credentials() {
    String id = auth.accessKeyId().resolve().orElseThrow(() -> missing(auth.accessKeyId()));
    String secret =
        auth.secretAccessKey().resolve().orElseThrow(() -> missing(auth.secretAccessKey()));
    return new SigV4Signer.Credentials(id, secret, auth.sessionToken().resolve());
  }

  private ModelException missing(SecretRef ref) {
    return new ModelException(
        ModelException.Kind.AUTHENTICATION,
        name()
            + ": no AWS credential in "
            + ref.describe()
            + " and no Bedrock API key in "
            + endpoint.apiKey().describe());
  }

  /** The JSON body for {@code request}. */
  static JsonObject requestBody(ModelRequest request) {
    Map<String, JsonValue> body = new LinkedHashMap<>();
    List<JsonValue> system = new ArrayList<>();
    List<JsonValue> messages = new ArrayList<>();
    String role = "";
    List<JsonValue> blocks = new ArrayList<>();
    for (Message m : request.messages()) {
      if (m instanceof Message.System s) {
        system.add(JsonValue.object("text", s.text()));
        continue;
      }
      String next = m instanceof Message.Assistant ? "assistant" : "user";
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
    body.put("messages", new JsonArray(messages));
    if (!system.isEmpty()) {
      body.put("system", new JsonArray(system));
    }
    body.put("inferenceConfig", JsonValue.object("maxTokens", (long) request.maxOutputTokens()));
    List<JsonValue> tools = new ArrayList<>();
    for (ModelRequest.ToolSchema t : request.tools()) {
      tools.add(toolSpec(t.name(), t.description(), t.inputSchema()));
    }
    Optional<JsonValue> choice = Optional.empty();
    if (request.outputSchema().isPresent()) {
      tools.add(
          toolSpec(
              STRUCTURED_TOOL,
              "Return the final answer as JSON matching this schema.",
              request.outputSchema().get()));
      choice = Optional.of(JsonValue.object("tool", JsonValue.object("name", STRUCTURED_TOOL)));
    }
    if (!tools.isEmpty()) {
      Map<String, JsonValue> toolConfig = new LinkedHashMap<>();
      toolConfig.put("tools", new JsonArray(tools));
      choice.ifPresent(c -> toolConfig.put("toolChoice", c));
      body.put("toolConfig", new JsonObject(toolConfig));
    }
    return new JsonObject(body);
  }

  private static JsonValue toolSpec(String name, String description, JsonObject schema) {
    return JsonValue.object(
        "toolSpec",
        JsonValue.object(
            "name",
            name,
            "description",
            description,
            "inputSchema",
            JsonValue.object("json", schema)));
  }

  private static List<JsonValue> blocks(Message m) {
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
                  "toolUse",
                  JsonValue.object(
                      "toolUseId", call.id(), "name", call.name(), "input", call.arguments())));
        }
        yield out;
      }
      case Message.ToolResult r -> {
        JsonValue content =
            r.content() instanceof JsonObject o && !r.isError()
                ? JsonValue.object("json", o)
                : JsonValue.object("text", ToolResultText.of(r));
        yield List.of(
            JsonValue.object(
                "toolResult",
                JsonValue.object(
                    "toolUseId",
                    r.callId(),
                    "content",
                    JsonArray.of(content),
                    "status",
                    r.isError() ? "error" : "success")));
      }
    };
  }
}
