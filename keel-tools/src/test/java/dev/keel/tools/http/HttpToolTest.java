package dev.keel.tools.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.Idempotency;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.Availability;
import dev.keel.tools.Redactor;
import dev.keel.tools.ToolContract;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HttpToolTest {
  private LoopbackServer upstream;
  private final Redactor redactor = new Redactor(List.of());

  @BeforeEach
  void start() throws Exception {
    upstream = new LoopbackServer("127.0.0.2");
  }

  @AfterEach
  void stop() {
    upstream.close();
  }

  private HttpTool tool(String template, String pointer) {
    ToolContract c =
        ToolContract.builder("crm.get_account")
            .riskLevel(0)
            .idempotency(Idempotency.NATURAL)
            .availability(Availability.EVERYONE)
            .inputSchema(
                (JsonObject)
                    JsonParser.parse(
                        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
                            + "\"q\":{\"type\":\"string\"}},\"required\":[\"id\"]}"))
            .build();
    return new HttpTool(
        c,
        new HttpToolConfig(
            "GET",
            template,
            Map.of("Authorization", "Bearer ${secret:crm_token}"),
            List.of("q"),
            pointer,
            Set.of("upstream.test", "upstream2.test"),
            List.of("127.0.0.2/32"),
            true,
            1 << 16,
            3),
        host -> List.of(InetAddress.getByName("127.0.0.2")),
        name -> name.equals("crm_token") ? Optional.of("s3cr3t-token-value") : Optional.empty(),
        redactor);
  }

  private static ToolInvocation call(JsonObject args) {
    return new ToolInvocation("acme", "run_1", "call_7", "run_1:3:call_7", args, 1);
  }

  @Test
  void sendsIdempotencyKeyAndSecretHeaderAndMapsTheResponse() throws Exception {
    HttpTool t = tool("http://upstream.test:" + upstream.port() + "/accounts/{id}", "/data");
    ToolResult r = t.invoke(call(JsonValue.object("id", "../admin x", "q", "a&b")));
    assertThat(r).isInstanceOf(ToolResult.Success.class);
    JsonObject body =
        (JsonObject) ((JsonObject) ((ToolResult.Success) r).data()).get("body").orElseThrow();
    assertThat(body.string("key")).contains("run_1:3:call_7");
    assertThat(body.string("path")).contains("/accounts/..%2Fadmin%20x");
    assertThat(upstream.requests.get(0).getFirst("Authorization"))
        .isEqualTo("Bearer s3cr3t-token-value");
    assertThat(redactor.redact("x s3cr3t-token-value y")).doesNotContain("s3cr3t");
  }

  @Test
  void secretHeadersAreDroppedWhenARedirectLeavesTheHost() throws Exception {
    HttpTool t = tool("http://upstream.test:" + upstream.port() + "/redirect", "/data");
    ToolResult r =
        t.invoke(
            call(
                JsonValue.object(
                    "id", "x", "q", "http://upstream2.test:" + upstream.port() + "/landing")));
    assertThat(r).isInstanceOf(ToolResult.Success.class);
    assertThat(upstream.requests).hasSize(2);
    assertThat(upstream.requests.get(1).getFirst("Authorization")).isNull();
  }

  @Test
  void serverErrorsAreRetryableFailures() throws Exception {
    HttpTool t = tool("http://upstream.test:" + upstream.port() + "/fail/{id}", "");
    assertThat(t.invoke(call(JsonValue.object("id", "1"))))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class,
            f -> {
              assertThat(f.type()).isEqualTo("http_503");
              assertThat(f.retryable()).isTrue();
            });
  }

  @Test
  void missingSecretIsAConfigurationError() throws Exception {
    HttpTool t =
        new HttpTool(
            ToolContract.builder("x.y").availability(Availability.EVERYONE).build(),
            new HttpToolConfig(
                "GET",
                "http://upstream.test/",
                Map.of("X-Key", "${secret:nope}"),
                List.of(),
                "",
                Set.of("upstream.test"),
                List.of("127.0.0.2/32"),
                true,
                4096,
                0),
            host -> List.of(InetAddress.getByName("127.0.0.2")),
            n -> Optional.empty(),
            redactor);
    assertThat(t.invoke(call(JsonValue.EMPTY_OBJECT)))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("configuration_error"));
    assertThat(upstream.hits).hasValue(0);
  }
}
