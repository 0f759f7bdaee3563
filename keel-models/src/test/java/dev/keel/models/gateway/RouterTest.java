package dev.keel.models.gateway;

import static dev.keel.models.gateway.GatewayFixtures.PRICES;
import static dev.keel.models.gateway.GatewayFixtures.request;
import static dev.keel.models.gateway.GatewayFixtures.route;
import static dev.keel.models.gateway.GatewayFixtures.targets;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelRequest;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouterTest {
  private final TokenCounter tokens = new TokenCounter();

  private Router router(Map<String, TenantPolicy> policies) {
    Route planning =
        new Route(
            "planning",
            Set.of(TaskType.PLANNING),
            Set.of(Complexity.HIGH),
            route().tiers(),
            false,
            Optional.empty());
    Route cheap =
        new Route(
            "cheap",
            Set.of(TaskType.CLASSIFICATION, TaskType.EXTRACTION),
            Set.of(),
            List.of(new Tier("secondary", Duration.ofSeconds(5), false)),
            false,
            Optional.empty());
    return new Router(List.of(planning, cheap, route()), targets(), policies, PRICES, tokens);
  }

  private List<String> chain(RouteDecision d) {
    return d.tiers().stream().map(t -> t.target().id()).toList();
  }

  @Test
  void routesByTaskTypeAndComplexity() {
    Router r = router(Map.of());
    CallContext ctx =
        CallContext.of("acme").withTaskType(TaskType.PLANNING).withComplexity(Complexity.HIGH);
    assertThat(r.decide(request("plan"), ctx).route().name()).isEqualTo("planning");
    assertThat(r.decide(request("plan"), ctx.withComplexity(Complexity.LOW)).route().name())
        .isEqualTo("default");
    assertThat(r.decide(request("x"), ctx.withTaskType(TaskType.CLASSIFICATION)).route().name())
        .isEqualTo("cheap");
  }

  @Test
  void confidentialDataGoesToSelfHostedModelsOnly() {
    RouteDecision d =
        router(Map.of())
            .decide(
                request("secret"), CallContext.of("acme").withDataClass(DataClass.CONFIDENTIAL));
    assertThat(chain(d)).containsExactly("secondary");
    assertThat(d.reasons())
        .contains("skipped primary: confidential data goes to self-hosted models only");
  }

  @Test
  void tenantPolicyLimitsProviders() {
    RouteDecision d =
        router(Map.of("globex", new TenantPolicy("globex", Set.of("alpha"), false)))
            .decide(request("hi"), CallContext.of("globex"));
    assertThat(chain(d)).containsExactly("primary");
    assertThat(d.reasons())
        .contains("skipped secondary: tenant globex does not allow provider beta");
  }

  @Test
  void requiredCapabilitiesContextWindowLatencyAndCostFilterTargets() {
    Map<String, ModelTarget> t = new HashMap<>(targets());
    t.put(
        "primary",
        new ModelTarget(
            "primary",
            "alpha",
            "big-model",
            EnumSet.noneOf(Capability.class),
            128_000,
            false,
            Duration.ofSeconds(2)));
    t.put(
        "secondary",
        new ModelTarget(
            "secondary",
            "beta",
            "small-model",
            EnumSet.allOf(Capability.class),
            1000,
            true,
            Duration.ofSeconds(9)));
    Router r = new Router(List.of(route()), t, Map.of(), PRICES, tokens);
    ModelRequest withTools =
        new ModelRequest(
            "any",
            List.of(new Message.User("weather?")),
            List.of(
                new ModelRequest.ToolSchema(
                    "get_weather", "w", JsonValue.object("type", "object"))),
            Optional.empty(),
            2000);
    RouteDecision d = r.decide(withTools, CallContext.of("acme"));
    assertThat(d.tiers()).isEmpty();
    assertThat(d.reasons()).contains("skipped primary: lacks capability TOOL_CALLING");
    assertThat(d.reasons()).anyMatch(s -> s.startsWith("skipped secondary: context window 1000"));

    RouteDecision latency =
        r.decide(request("hi"), CallContext.of("acme").withLatencyBudget(Duration.ofSeconds(5)));
    assertThat(latency.reasons()).anyMatch(s -> s.contains("exceeds the latency budget"));

    RouteDecision cost =
        router(Map.of()).decide(request("hi"), CallContext.of("acme").withCostBudgetMicros(1000));
    assertThat(chain(cost)).containsExactly("secondary");
    assertThat(cost.reasons())
        .anyMatch(
            s ->
                s.startsWith("skipped primary: reserved cost")
                    && s.contains("exceeds the cost budget 1000"));
  }

  @Test
  void unknownTargetFailsAtConstructionAndNoRouteFailsTheCall() {
    Route bad = Route.any("bad", Duration.ofSeconds(1), "nope");
    assertThatThrownBy(() -> new Router(List.of(bad), targets(), Map.of(), PRICES, tokens))
        .hasMessageContaining("unknown model target 'nope'");
    Router onlyPlanning =
        new Router(
            List.of(
                new Route(
                    "p",
                    Set.of(TaskType.PLANNING),
                    Set.of(),
                    route().tiers(),
                    false,
                    Optional.empty())),
            targets(),
            Map.of(),
            PRICES,
            tokens);
    assertThatThrownBy(() -> onlyPlanning.decide(request("hi"), CallContext.of("acme")))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("no route takes task type GENERAL");
  }
}
