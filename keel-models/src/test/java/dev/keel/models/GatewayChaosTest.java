package dev.keel.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelProvider;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real adapters over real HTTP through the gateway: the primary's server answers 30% of requests
 * with a 429 (retry-after-ms 50), a 500, a stall past the timeout, malformed JSON or a truncated
 * stream, chosen from a seed; the secondary is healthy. No call may fail and retries stay in
 * budget.
 */
class GatewayChaosTest {

  @ParameterizedTest
  @ValueSource(longs = {3L, 20261122L})
  void noCallFailsWhileOneProviderIsHealthy(long seed) {
    try (FixtureServer flaky = new FixtureServer();
        FixtureServer healthy = new FixtureServer()) {
      Random random = new Random(seed);
      byte[] openAiText = ProviderConformanceTest.resource("openai-chat/text.sse");
      AtomicInteger injected = new AtomicInteger();
      flaky.answerWith(
          () -> {
            if (random.nextDouble() >= 0.3) {
              return FixtureServer.Reply.ok("text/event-stream", openAiText);
            }
            injected.incrementAndGet();
            return switch (random.nextInt(5)) {
              case 0 ->
                  new FixtureServer.Reply(
                      429,
                      Map.of("retry-after-ms", "50", "Retry-After", "1"),
                      ProviderConformanceTest.resource("openai-chat/error-rate-limit.json"),
                      0);
              case 1 ->
                  new FixtureServer.Reply(
                      500,
                      Map.of(),
                      "{\"error\":{\"type\":\"server_error\"}}".getBytes(StandardCharsets.UTF_8),
                      0);
              case 2 ->
                  new FixtureServer.Reply(
                      200, Map.of("Content-Type", "text/event-stream"), openAiText, 1500);
              case 3 ->
                  FixtureServer.Reply.ok(
                      "text/event-stream",
                      ProviderConformanceTest.resource("openai-chat/malformed.sse"));
              default ->
                  FixtureServer.Reply.ok(
                      "text/event-stream",
                      ProviderConformanceTest.resource("openai-chat/truncated.sse"));
            };
          });
      byte[] anthropicText = ProviderConformanceTest.resource("anthropic/text.sse");
      healthy.answerWith(() -> FixtureServer.Reply.ok("text/event-stream", anthropicText));

      ModelProvider primary =
          new OpenAiChatProvider(
              new HttpEndpoint(
                  "openai",
                  URI.create(flaky.baseUrl() + "/v1"),
                  new SecretRef.Fixed("k"),
                  Duration.ofSeconds(2),
                  Duration.ofMillis(300),
                  Map.of()),
              OpenAiChatProvider.Dialect.OPENAI);
      ModelProvider secondary =
          new AnthropicProvider(
              new HttpEndpoint(
                  "anthropic",
                  healthy.baseUrl(),
                  new SecretRef.Fixed("k"),
                  Duration.ofSeconds(2),
                  Duration.ofSeconds(5),
                  Map.of()));
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
      InstantSource clock = InstantSource.system();
      // The breakers count time in calls, 50 ms of breaker time each, so how long an open breaker
      // stays open does not depend on how fast this machine answers 120 local calls.
      java.util.concurrent.atomic.AtomicReference<java.time.Instant> breakerNow =
          new java.util.concurrent.atomic.AtomicReference<>(
              java.time.Instant.parse("2026-01-01T00:00:00Z"));
      InstantSource breakerClock = breakerNow::get;
      ModelGateway gateway =
          new ModelGateway(
              Map.of("openai", primary, "anthropic", secondary),
              new Router(
                  List.of(Route.any("default", Duration.ofSeconds(2), "gpt", "claude")),
                  targets,
                  Map.of(),
                  PriceTable.empty(),
                  new TokenCounter()),
              new ResponseCache(10, Duration.ZERO, Duration.ZERO, clock),
              budget,
              Map.of(
                  "openai", new CircuitBreaker("openai", 5, Duration.ofMillis(200), breakerClock),
                  "anthropic",
                      new CircuitBreaker("anthropic", 5, Duration.ofMillis(200), breakerClock)),
              2,
              clock,
              d -> {});
      int calls = 120;
      int failed = 0;
      int fromPrimary = 0;
      for (int i = 0; i < calls; i++) {
        ModelRequest request =
            new ModelRequest(
                "any", List.of(new Message.User("question " + i)), List.of(), Optional.empty(), 64);
        try {
          GatewayResult r = gateway.call(request, CallContext.of("acme"));
          assertThat(r.response().text())
              .as("seed %d", seed)
              .isEqualTo("The capital of France is Paris.");
          if (r.servedBy().equals("gpt")) {
            fromPrimary++;
          }
        } catch (ModelException e) {
          failed++;
          System.out.println("seed " + seed + ", call " + i + " failed: " + e.getMessage());
        }
        breakerNow.updateAndGet(t -> t.plusMillis(50));
      }
      assertThat(failed).as("failed calls, seed %d", seed).isZero();
      assertThat(injected.get()).as("injected failures, seed %d", seed).isGreaterThan(10);
      assertThat(fromPrimary)
          .as("answers from the flaky primary, seed %d", seed)
          .isGreaterThan(calls / 4);
      assertThat((double) budget.granted())
          .as("retries vs budget, seed %d", seed)
          .isLessThanOrEqualTo(5 + 0.2 * budget.calls());
    }
  }
}
