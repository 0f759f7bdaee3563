package dev.keel.models.gateway;

import dev.keel.model.ModelException;
import dev.keel.model.ModelRequest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Chooses the fallback chain for a call: the first route whose task types and complexities match,
 * then each of its tiers filtered by data classification, tenant policy, required capabilities,
 * context window, latency budget and cost budget. Every choice and every exclusion is recorded as a
 * sentence in the decision.
 */
public final class Router {
  private final List<Route> routes;
  private final Map<String, ModelTarget> targets;
  private final Map<String, TenantPolicy> policies;
  private final PriceTable prices;
  private final TokenCounter tokens;

  /**
   * Creates a router.
   *
   * @throws IllegalArgumentException when a tier names a target that does not exist
   */
  public Router(
      List<Route> routes,
      Map<String, ModelTarget> targets,
      Map<String, TenantPolicy> policies,
      PriceTable prices,
      TokenCounter tokens) {
    this.routes = List.copyOf(routes);
    this.targets = Map.copyOf(targets);
    this.policies = Map.copyOf(policies);
    this.prices = prices;
    this.tokens = tokens;
    for (Route r : this.routes) {
      for (Tier t : r.tiers()) {
        if (!this.targets.containsKey(t.targetId())) {
          throw new IllegalArgumentException(
              "route "
                  + r.name()
                  + " names unknown model target '"
                  + t.targetId()
                  + "'; known: "
                  + this.targets.keySet());
        }
      }
    }
  }

  /** The model targets the routes' tiers name. */
  public java.util.Collection<ModelTarget> routedTargets() {
    java.util.Map<String, ModelTarget> used = new java.util.TreeMap<>();
    for (Route r : routes) {
      for (Tier t : r.tiers()) {
        used.put(t.targetId(), targets.get(t.targetId()));
      }
    }
    return used.values();
  }

  /** The price table the router reserves costs with. */
  public PriceTable prices() {
    return prices;
  }

  /**
   * Decides the chain for {@code request} in {@code context}.
   *
   * @throws ModelException {@code INVALID_REQUEST} when no route matches
   */
  public RouteDecision decide(ModelRequest request, CallContext context) {
    List<String> reasons = new ArrayList<>();
    Route route =
        routes.stream()
            .filter(r -> r.matches(context))
            .findFirst()
            .orElseThrow(
                () ->
                    new ModelException(
                        ModelException.Kind.INVALID_REQUEST,
                        "no route takes task type "
                            + context.taskType()
                            + " with complexity "
                            + context.complexity()));
    reasons.add(
        "route "
            + route.name()
            + " matched task type "
            + context.taskType()
            + ", complexity "
            + context.complexity());
    long input = tokens.inputUpperBound(request);
    Set<Capability> needed = needed(request, context);
    Optional<TenantPolicy> policy = Optional.ofNullable(policies.get(context.tenant()));
    List<RouteDecision.PlannedTier> planned = new ArrayList<>();
    for (Tier tier : route.tiers()) {
      ModelTarget t = targets.get(tier.targetId());
      long reserve = prices.pricing(t.model()).maxCostMicros(input, request.maxOutputTokens());
      Optional<String> excluded =
          exclusion(t, context, policy, needed, input, request.maxOutputTokens(), reserve);
      if (excluded.isPresent()) {
        reasons.add("skipped " + t.id() + ": " + excluded.get());
      } else {
        reasons.add(
            "tier "
                + planned.size()
                + ": "
                + t.id()
                + " ("
                + t.provider()
                + "/"
                + t.model()
                + "), reserving "
                + reserve
                + " micro-USD for about "
                + input
                + " input tokens at prices "
                + prices.version());
        planned.add(new RouteDecision.PlannedTier(t, tier.timeout(), tier.degraded(), reserve));
      }
    }
    return new RouteDecision(route, planned, input, reasons);
  }

  private static Set<Capability> needed(ModelRequest request, CallContext context) {
    Set<Capability> needed = EnumSet.noneOf(Capability.class);
    needed.addAll(context.requiredCapabilities());
    if (!request.tools().isEmpty()) {
      needed.add(Capability.TOOL_CALLING);
    }
    if (request.outputSchema().isPresent()) {
      needed.add(Capability.STRUCTURED_OUTPUT);
    }
    return needed;
  }

  private static Optional<String> exclusion(
      ModelTarget t,
      CallContext context,
      Optional<TenantPolicy> policy,
      Set<Capability> needed,
      long input,
      int maxOutput,
      long reserve) {
    if (context.dataClass() == DataClass.CONFIDENTIAL && !t.selfHosted()) {
      return Optional.of("confidential data goes to self-hosted models only");
    }
    if (policy.isPresent()) {
      TenantPolicy p = policy.get();
      if (p.selfHostedOnly() && !t.selfHosted()) {
        return Optional.of("tenant " + p.tenant() + " allows self-hosted models only");
      }
      if (!p.allowedProviders().isEmpty() && !p.allowedProviders().contains(t.provider())) {
        return Optional.of("tenant " + p.tenant() + " does not allow provider " + t.provider());
      }
    }
    for (Capability c : needed) {
      if (!t.capabilities().contains(c)) {
        return Optional.of("lacks capability " + c);
      }
    }
    if (input + maxOutput > t.contextWindow()) {
      return Optional.of(
          "context window "
              + t.contextWindow()
              + " < about "
              + input
              + " input + "
              + maxOutput
              + " output tokens");
    }
    if (t.typicalLatency().compareTo(context.latencyBudget()) > 0) {
      return Optional.of(
          "typical latency "
              + t.typicalLatency()
              + " exceeds the latency budget "
              + context.latencyBudget());
    }
    if (reserve > context.costBudgetMicros()) {
      return Optional.of(
          "reserved cost "
              + reserve
              + " micro-USD exceeds the cost budget "
              + context.costBudgetMicros());
    }
    return Optional.empty();
  }
}
