package dev.keel.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelRequest;
import dev.keel.models.anthropic.AnthropicProvider;
import dev.keel.models.gateway.CallContext;
import dev.keel.models.gateway.Capability;
import dev.keel.models.gateway.CircuitBreaker;
import dev.keel.models.gateway.GatewayResult;
import dev.keel.models.gateway.ModelGateway;
import dev.keel.models.gateway.ModelTarget;
import dev.keel.models.gateway.PriceTable;
import dev.keel.models.gateway.ResponseCache;
import dev.keel.models.gateway.RetryBudget;
import dev.keel.models.gateway.Route;
import dev.keel.models.gateway.Router;
import dev.keel.models.gateway.TokenCounter;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import dev.keel.models.openai.OpenAiChatProvider;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The gateway against two real aimock servers: the primary with aimock's own chaos (10% dropped
 * with 500, 10% rate limited, 10% malformed JSON), the secondary healthy. No call may fail.
 */
class AimockChaosIT {

  @Test
  void noCallFailsWhenThePrimaryMisbehavesThirtyPercentOfTheTime() throws Exception {
    try (AimockServer chaotic =
            AimockServer.start(
                List.of(
                    "--chaos-drop",
                    "0.1",
                    "--chaos-ratelimit",
                    "0.1",
                    "--chaos-malformed",
                    "0.1"));
        AimockServer healthy = AimockServer.start()) {
      InstantSource clock = InstantSource.system();
      Map<String, ModelTarget> targets =
          Map.of(
              "gpt",
                  new ModelTarget(
                      "gpt",
                      "openai",
                      "gpt-4o-mini",
                      EnumSet.allOf(Capability.class),
                      128_000,
                      false,
                      Duration.ofSeconds(1)),
              "claude",
                  new ModelTarget(
                      "claude",
                      "anthropic",
                      "claude-haiku",
                      EnumSet.allOf(Capability.class),
                      200_000,
                      false,
                      Duration.ofSeconds(1)));
      RetryBudget budget = new RetryBudget(0.2, 5, 20);
      try (ModelGateway gateway =
          new ModelGateway(
              Map.of(
                  "openai",
                  new OpenAiChatProvider(
                      new HttpEndpoint(
                          "openai",
                          URI.create(chaotic.baseUrl() + "/v1"),
                          new SecretRef.Fixed("k"),
                          Duration.ofSeconds(2),
                          Duration.ofSeconds(5),
                          Map.of()),
                      OpenAiChatProvider.Dialect.OPENAI),
                  "anthropic",
                  new AnthropicProvider(
                      new HttpEndpoint(
                          "anthropic",
                          healthy.baseUrl(),
                          new SecretRef.Fixed("k"),
                          Duration.ofSeconds(2),
                          Duration.ofSeconds(5),
                          Map.of()))),
              new Router(
                  List.of(Route.any("default", Duration.ofSeconds(5), "gpt", "claude")),
                  targets,
                  Map.of(),
                  PriceTable.empty(),
                  new TokenCounter()),
              new ResponseCache(10, Duration.ZERO, Duration.ZERO, clock),
              budget,
              Map.of(
                  "openai", new CircuitBreaker("openai", 5, Duration.ofMillis(200), clock),
                  "anthropic", new CircuitBreaker("anthropic", 5, Duration.ofMillis(200), clock)),
              2,
              clock,
              d -> {})) {
        int failed = 0;
        int secondary = 0;
        for (int i = 0; i < 80; i++) {
          ModelRequest request =
              new ModelRequest(
                  "any",
                  List.of(new Message.User("What is the capital of France? #" + i)),
                  List.of(),
                  Optional.empty(),
                  64);
          try {
            GatewayResult r = gateway.call(request, CallContext.of("acme"));
            assertThat(r.response().text()).isEqualTo("The capital of France is Paris.");
            if (r.servedBy().equals("claude")) {
              secondary++;
            }
          } catch (ModelException e) {
            failed++;
            System.out.println("call " + i + " failed: " + e.getMessage());
          }
        }
        assertThat(failed).isZero();
        assertThat(secondary).as("calls the secondary had to answer").isPositive();
        assertThat((double) budget.granted()).isLessThanOrEqualTo(5 + 0.2 * budget.calls());
      }
    }
  }
}
