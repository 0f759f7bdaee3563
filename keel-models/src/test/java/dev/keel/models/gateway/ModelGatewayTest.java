package dev.keel.models.gateway;

import static dev.keel.models.gateway.GatewayFixtures.cache;
import static dev.keel.models.gateway.GatewayFixtures.gateway;
import static dev.keel.models.gateway.GatewayFixtures.request;
import static dev.keel.models.gateway.GatewayFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ModelGatewayTest {
  private final TestClock clock = new TestClock();

  @Test
  void primaryAnswersAndCostIsRecordedFromUsage() {
    ModelGateway gw =
        gateway(
            clock,
            RetryBudget.standard(),
            route(),
            cache(clock),
            new FakeProvider("alpha"),
            new FakeProvider("beta"));
    GatewayResult r = gw.call(request("hi"), CallContext.of("acme"));
    assertThat(r.servedBy()).isEqualTo("primary");
    assertThat(r.degraded()).isFalse();
    assertThat(r.response().model()).isEqualTo("big-model");
    // 800 uncached * 3 + 200 cached * 0.3 + 100 out * 15 micro-USD
    assertThat(r.costMicros()).isEqualTo(2400 + 60 + 1500);
    assertThat(r.reservedMicros()).isGreaterThan(256 * 15L);
    assertThat(r.priceVersion()).isEqualTo("2026-11-test");
    assertThat(r.decision().reasons()).anyMatch(s -> s.startsWith("route default matched"));
  }

  @Test
  void nonRetryableFailureMovesToTheNextTierWithoutRetrying() {
    FakeProvider alpha =
        new FakeProvider("alpha").failNext(new ModelException(Kind.AUTHENTICATION, "bad key"));
    FakeProvider beta = new FakeProvider("beta");
    RetryBudget budget = RetryBudget.standard();
    GatewayResult r =
        gateway(clock, budget, route(), cache(clock), alpha, beta)
            .call(request("hi"), CallContext.of("acme"));
    assertThat(r.servedBy()).isEqualTo("secondary");
    assertThat(alpha.calls).hasValue(1);
    assertThat(budget.granted()).isZero();
  }

  @Test
  void retryableFailureIsRetriedOnTheSameTierWithinBudget() {
    FakeProvider alpha =
        new FakeProvider("alpha").failNext(new ModelException(Kind.OVERLOADED, "500"));
    RetryBudget budget = RetryBudget.standard();
    GatewayResult r =
        gateway(clock, budget, route(), cache(clock), alpha, new FakeProvider("beta"))
            .call(request("hi"), CallContext.of("acme"));
    assertThat(r.servedBy()).isEqualTo("primary");
    assertThat(alpha.calls).hasValue(2);
    assertThat(budget.granted()).isEqualTo(1);
  }

  @Test
  void retryAfterIsRespectedAcrossCalls() {
    FakeProvider alpha =
        new FakeProvider("alpha")
            .failNext(
                new ModelException(
                    Kind.RATE_LIMITED, "429", Optional.of(Duration.ofSeconds(60)), null));
    FakeProvider beta = new FakeProvider("beta");
    ModelGateway gw = gateway(clock, RetryBudget.standard(), route(), cache(clock), alpha, beta);

    GatewayResult first = gw.call(request("hi"), CallContext.of("acme"));
    assertThat(first.servedBy()).isEqualTo("secondary");
    assertThat(first.attempts()).anyMatch(a -> a.contains("would pass the tier timeout"));

    clock.advance(Duration.ofSeconds(30));
    GatewayResult during = gw.call(request("hi"), CallContext.of("acme"));
    assertThat(during.servedBy()).isEqualTo("secondary");
    assertThat(during.attempts()).anyMatch(a -> a.contains("Retry-After"));
    assertThat(alpha.calls).hasValue(1);

    clock.advance(Duration.ofSeconds(30));
    assertThat(gw.call(request("hi"), CallContext.of("acme")).servedBy()).isEqualTo("primary");
    assertThat(alpha.calls).hasValue(2);
  }

  @Test
  void shortRetryAfterIsWaitedOutOnTheSameTier() {
    FakeProvider alpha =
        new FakeProvider("alpha")
            .failNext(
                new ModelException(
                    Kind.RATE_LIMITED, "429", Optional.of(Duration.ofSeconds(2)), null));
    ModelGateway gw =
        gateway(
            clock, RetryBudget.standard(), route(), cache(clock), alpha, new FakeProvider("beta"));
    var start = clock.instant();
    GatewayResult r = gw.call(request("hi"), CallContext.of("acme"));
    assertThat(r.servedBy()).isEqualTo("primary");
    assertThat(Duration.between(start, clock.instant())).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void openBreakerSkipsTheProviderUntilItsProbe() {
    FakeProvider alpha = new FakeProvider("alpha");
    for (int i = 0; i < 20; i++) {
      alpha.failNext(new ModelException(Kind.OVERLOADED, "503"));
    }
    ModelGateway gw =
        gateway(
            clock,
            new RetryBudget(0, 0, 0),
            route(),
            cache(clock),
            alpha,
            new FakeProvider("beta"));
    for (int i = 0; i < 5; i++) {
      gw.call(request("hi"), CallContext.of("acme"));
    }
    assertThat(gw.breaker("alpha").orElseThrow().state()).isEqualTo(CircuitBreaker.State.OPEN);
    int before = alpha.calls.get();
    GatewayResult skipped = gw.call(request("hi"), CallContext.of("acme"));
    assertThat(skipped.attempts()).anyMatch(a -> a.contains("circuit for alpha is open"));
    assertThat(alpha.calls).hasValue(before);
    clock.advance(Duration.ofSeconds(30));
    gw.call(request("hi"), CallContext.of("acme"));
    assertThat(alpha.calls).hasValue(before + 1);
  }

  @Test
  void staleCacheAnswerIsServedDegradedWhenEveryTierFails() {
    FakeProvider alpha = new FakeProvider("alpha");
    FakeProvider beta = new FakeProvider("beta");
    ModelGateway gw = gateway(clock, new RetryBudget(0, 0, 0), route(), cache(clock), alpha, beta);
    CallContext ctx = CallContext.of("acme").withCacheable(true);
    gw.call(request("hi"), ctx);
    clock.advance(Duration.ofMinutes(10));
    alpha.failNext(new ModelException(Kind.OVERLOADED, "down"));
    beta.failNext(new ModelException(Kind.OVERLOADED, "down"));
    GatewayResult r = gw.call(request("hi"), ctx);
    assertThat(r.source()).isEqualTo(GatewayResult.Source.STALE_CACHE);
    assertThat(r.degraded()).isTrue();
    assertThat(r.response().text()).isEqualTo("answer from alpha");
  }

  @Test
  void ruleBasedAnswerIsServedDegradedAndFailureOtherwiseNamesEveryAttempt() {
    ModelResponse fallback =
        new ModelResponse("rules", "unknown", List.of(), TokenUsage.ZERO, FinishReason.STOP);
    Route withRules =
        new Route(
            "classify",
            Set.of(TaskType.CLASSIFICATION),
            Set.of(),
            route().tiers(),
            false,
            Optional.of((req, ctx) -> Optional.of(fallback)));
    FakeProvider alpha =
        new FakeProvider("alpha").failNext(new ModelException(Kind.AUTHENTICATION, "no key"));
    FakeProvider beta =
        new FakeProvider("beta").failNext(new ModelException(Kind.AUTHENTICATION, "no key"));
    ModelGateway gw = gateway(clock, RetryBudget.standard(), withRules, cache(clock), alpha, beta);
    GatewayResult r =
        gw.call(request("hi"), CallContext.of("acme").withTaskType(TaskType.CLASSIFICATION));
    assertThat(r.source()).isEqualTo(GatewayResult.Source.RULES);
    assertThat(r.degraded()).isTrue();

    ModelGateway noRules =
        gateway(clock, RetryBudget.standard(), route(), cache(clock), alpha, beta);
    alpha.failNext(new ModelException(Kind.AUTHENTICATION, "no key"));
    beta.failNext(new ModelException(Kind.CONTEXT_TOO_LONG, "too long"));
    assertThatThrownBy(() -> noRules.call(request("hi"), CallContext.of("acme")))
        .isInstanceOfSatisfying(
            ModelException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONTEXT_TOO_LONG))
        .hasMessageContaining("primary: attempt 1 failed")
        .hasMessageContaining("secondary: attempt 1 failed");
  }

  @Test
  void cacheIsKeyedByTenant() {
    FakeProvider alpha = new FakeProvider("alpha");
    ModelGateway gw =
        gateway(
            clock, RetryBudget.standard(), route(), cache(clock), alpha, new FakeProvider("beta"));
    CallContext acme = CallContext.of("acme").withCacheable(true);
    assertThat(gw.call(request("hi"), acme).source()).isEqualTo(GatewayResult.Source.LIVE);
    assertThat(gw.call(request("hi"), acme).source()).isEqualTo(GatewayResult.Source.CACHE);
    assertThat(gw.call(request("hi"), acme.withTenant("globex")).source())
        .isEqualTo(GatewayResult.Source.LIVE);
    assertThat(gw.call(request("other"), acme).source()).isEqualTo(GatewayResult.Source.LIVE);
    assertThat(gw.call(request("hi"), CallContext.of("acme")).source())
        .isEqualTo(GatewayResult.Source.LIVE);
    assertThat(alpha.calls).hasValue(4);
    assertThat(ResponseCache.key("acme", "r", request("hi")))
        .isNotEqualTo(ResponseCache.key("globex", "r", request("hi")));
  }

  @Test
  void tierTimeoutCutsAHangingProviderAndFallsBack() {
    CountDownLatch never = new CountDownLatch(1);
    ModelProvider hanging =
        new ModelProvider() {
          @Override
          public String name() {
            return "alpha";
          }

          @Override
          public ModelResponse complete(ModelRequest request) {
            try {
              never.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            throw new ModelException(Kind.TIMEOUT, "interrupted");
          }
        };
    Route fast =
        new Route(
            "fast",
            Set.of(),
            Set.of(),
            List.of(
                new Tier("primary", Duration.ofMillis(50), false),
                new Tier("secondary", Duration.ofSeconds(5), true)),
            false,
            Optional.empty());
    ModelGateway gw =
        new ModelGateway(
            Map.of("alpha", hanging, "beta", new FakeProvider("beta")),
            new Router(
                List.of(fast),
                GatewayFixtures.targets(),
                Map.of(),
                GatewayFixtures.PRICES,
                new TokenCounter()),
            cache(clock),
            new RetryBudget(0, 0, 0),
            Map.of(),
            1,
            java.time.InstantSource.system(),
            Sleeper.system());
    GatewayResult r = gw.call(request("hi"), CallContext.of("acme"));
    assertThat(r.servedBy()).isEqualTo("secondary");
    assertThat(r.degraded()).isTrue();
    assertThat(r.attempts().getFirst()).contains("no answer within");
  }

  static LongStream seeds() {
    return LongStream.of(1L, 7L, 42L, 1234L, 20261122L);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void noCallFailsUnderThirtyPercentInjectedFailuresWhileOneProviderIsHealthy(long seed) {
    FakeProvider flaky = new FakeProvider("alpha", 0.3, seed);
    FakeProvider healthy = new FakeProvider("beta");
    RetryBudget budget = new RetryBudget(0.1, 5, 20);
    ModelGateway gw = gateway(clock, budget, route(), cache(clock), flaky, healthy);
    int failed = 0;
    int calls = 2000;
    for (int i = 0; i < calls; i++) {
      try {
        gw.call(request("call " + i), CallContext.of("acme"));
      } catch (ModelException e) {
        failed++;
      }
      clock.advance(Duration.ofMillis(500));
    }
    assertThat(failed).as("failed calls, seed %d", seed).isZero();
    assertThat(flaky.failures.get()).as("injected failures, seed %d", seed).isGreaterThan(100);
    assertThat((double) budget.granted())
        .as("retries granted vs budget, seed %d", seed)
        .isLessThanOrEqualTo(5 + 0.1 * budget.calls());
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void twoFlakyProvidersStayWithinTheRetryBudget(long seed) {
    FakeProvider a = new FakeProvider("alpha", 0.3, seed);
    FakeProvider b = new FakeProvider("beta", 0.3, seed + 1);
    RetryBudget budget = new RetryBudget(0.2, 10, 50);
    ModelGateway gw = gateway(clock, budget, route(), cache(clock), a, b);
    int succeeded = 0;
    for (int i = 0; i < 1000; i++) {
      try {
        gw.call(request("call " + i), CallContext.of("acme"));
        succeeded++;
      } catch (ModelException e) {
        assertThat(e.retryable()).as("seed %d", seed).isTrue();
      }
      clock.advance(Duration.ofMillis(500));
    }
    long attempts = (long) a.calls.get() + b.calls.get();
    assertThat(budget.granted()).as("seed %d", seed).isLessThanOrEqualTo((long) (10 + 0.2 * 1000));
    assertThat(attempts).as("seed %d", seed).isLessThanOrEqualTo(2000L + budget.granted());
    assertThat(succeeded).as("seed %d", seed).isGreaterThan(600);
  }
}
