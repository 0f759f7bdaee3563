package dev.keel.models.gateway;

import dev.keel.model.Message;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.Pricing;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Builds small gateways for tests. */
final class GatewayFixtures {
  static final PriceTable PRICES =
      new PriceTable(
          "2026-11-test",
          Map.of(
              "big-model",
              new Pricing(3_000_000, 15_000_000, 300_000),
              "small-model",
              new Pricing(150_000, 600_000, 75_000)));

  private GatewayFixtures() {}

  static ModelRequest request(String text) {
    return new ModelRequest(
        "any", List.of(new Message.User(text)), List.of(), Optional.empty(), 256);
  }

  static ModelTarget target(String id, String provider, String model, boolean selfHosted) {
    return new ModelTarget(
        id,
        provider,
        model,
        EnumSet.allOf(Capability.class),
        128_000,
        selfHosted,
        Duration.ofSeconds(2));
  }

  static Map<String, ModelTarget> targets() {
    Map<String, ModelTarget> t = new HashMap<>();
    t.put("primary", target("primary", "alpha", "big-model", false));
    t.put("secondary", target("secondary", "beta", "small-model", true));
    return t;
  }

  static ModelGateway gateway(
      TestClock clock,
      RetryBudget budget,
      Route route,
      ResponseCache cache,
      ModelProvider... providers) {
    Map<String, ModelProvider> byName = new HashMap<>();
    Map<String, CircuitBreaker> breakers = new HashMap<>();
    for (ModelProvider p : providers) {
      byName.put(p.name(), p);
      breakers.put(p.name(), new CircuitBreaker(p.name(), 5, Duration.ofSeconds(30), clock));
    }
    Router router = new Router(List.of(route), targets(), Map.of(), PRICES, new TokenCounter());
    return new ModelGateway(byName, router, cache, budget, breakers, 3, clock, clock);
  }

  static ResponseCache cache(TestClock clock) {
    return new ResponseCache(100, Duration.ofMinutes(5), Duration.ofHours(1), clock);
  }

  static Route route() {
    return new Route(
        "default",
        Set.of(),
        Set.of(),
        List.of(
            new Tier("primary", Duration.ofSeconds(20), false),
            new Tier("secondary", Duration.ofSeconds(20), false)),
        true,
        Optional.empty());
  }
}
