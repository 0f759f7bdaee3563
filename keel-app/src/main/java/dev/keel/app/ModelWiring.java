package dev.keel.app;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import dev.keel.model.ModelCall;
import dev.keel.model.ModelCallContext;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.models.gateway.CallContext;
import dev.keel.models.gateway.GatewayConfig;
import dev.keel.models.gateway.GatewayResult;
import dev.keel.models.gateway.ModelGateway;
import dev.keel.models.gateway.PriceTable;
import dev.keel.models.gateway.RouteDecision;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * The engine's model provider: the {@link ModelGateway} built from the {@code models:} section
 * (providers with base URL and key by secret reference, model targets, routes with fallback chains,
 * a versioned price table), or the scripted demo provider when there is none.
 *
 * <p>Implementation notes: the YAML section is flattened into the gateway's own keys ({@code
 * models.providers.openai.base-url} becomes {@code providers.openai.base-url}; a list becomes a
 * comma-separated value), so {@link GatewayConfig} stays the one parser and names a bad key. Each
 * call reports its routing decision (route, reasons, tier used, provider and model, degraded or
 * not, attempts, reserved and actual cost, price version) as a {@link ModelCall}, which the engine
 * records with the run. The engine reserves against the run's budget with the dearest price in the
 * table, so a fallback to a dearer tier can never overspend it.
 */
final class ModelWiring {
  private final ModelProvider provider;
  private final Function<String, Pricing> pricing;
  private final Optional<ModelGateway> gateway;

  private ModelWiring(
      ModelProvider provider, Function<String, Pricing> pricing, Optional<ModelGateway> gateway) {
    this.provider = provider;
    this.pricing = pricing;
    this.gateway = gateway;
  }

  /**
   * The provider configured in {@code cfg}.
   *
   * @throws ConfigException naming the bad key
   */
  static ModelWiring of(KeelConfig cfg) {
    Optional<JsonValue> section = cfg.sections().get("models");
    if (section.isEmpty()) {
      Pricing demo = new Pricing(1_000_000, 2_000_000, 0);
      return new ModelWiring(DemoCatalog.model(), m -> demo, Optional.empty());
    }
    if (!(section.get() instanceof JsonObject o)) {
      throw new ConfigException(
          List.of("models must be a mapping with providers, models, prices and routes"));
    }
    Map<String, String> flat = new LinkedHashMap<>();
    flatten("", o, flat);
    ModelGateway gw;
    PriceTable prices;
    try {
      gw = GatewayConfig.build(flat, Map.of(), InstantSource.system());
      Map<String, String> priceKeys = new LinkedHashMap<>();
      flat.forEach(
          (k, v) -> {
            if (k.startsWith("prices.")) {
              priceKeys.put(k.substring("prices.".length()), v);
            }
          });
      prices = PriceTable.fromConfig(priceKeys);
    } catch (IllegalArgumentException x) {
      throw new ConfigException(List.of("models: " + x.getMessage()));
    }
    Pricing dearest = dearest(prices);
    return new ModelWiring(new Routed(gw), m -> dearest, Optional.of(gw));
  }

  /** The engine's provider. */
  ModelProvider provider() {
    return provider;
  }

  /** The price the engine reserves with. */
  Function<String, Pricing> pricing() {
    return pricing;
  }

  /** Closes the gateway's executor, if there is one. */
  void close() {
    gateway.ifPresent(ModelGateway::close);
  }

  private static Pricing dearest(PriceTable t) {
    long in = 0;
    long out = 0;
    long cached = 0;
    for (Pricing p : t.prices().values()) {
      in = Math.max(in, p.inputPerMillion());
      out = Math.max(out, p.outputPerMillion());
      cached = Math.max(cached, p.cachedInputPerMillion());
    }
    return new Pricing(in, out, cached);
  }

  private static void flatten(String prefix, JsonObject o, Map<String, String> out) {
    o.members()
        .forEach(
            (k, v) -> {
              String key = prefix.isEmpty() ? k : prefix + "." + k;
              switch (v) {
                case JsonObject nested -> flatten(key, nested, out);
                case JsonArray a -> {
                  List<String> items = new ArrayList<>();
                  for (JsonValue item : a.items()) {
                    items.add(item instanceof JsonString s ? s.value() : item.toString());
                  }
                  out.put(key, String.join(",", items));
                }
                case JsonString s -> out.put(key, s.value());
                default -> out.put(key, v.toString());
              }
            });
  }

  /** The gateway as the engine's provider, reporting each decision. */
  static final class Routed implements ModelProvider {
    private final ModelGateway gateway;

    Routed(ModelGateway gateway) {
      this.gateway = gateway;
    }

    @Override
    public String name() {
      return "gateway";
    }

    @Override
    public ModelResponse complete(ModelRequest request) {
      return gateway.call(request, CallContext.of("default")).response();
    }

    @Override
    public ModelCall completeFor(ModelRequest request, ModelCallContext context) {
      GatewayResult r =
          gateway.call(
              request,
              CallContext.of(context.tenant()).withCostBudgetMicros(context.costBudgetMicros()));
      return new ModelCall(r.response(), routing(r), OptionalLong.of(r.costMicros()));
    }

    @Override
    public dev.keel.model.ModelLimits limits(String model) {
      return gateway.limits();
    }

    static JsonObject routing(GatewayResult r) {
      RouteDecision d = r.decision();
      String provider =
          d.tiers().stream()
              .filter(t -> t.target().id().equals(r.servedBy()))
              .map(t -> t.target().provider())
              .findFirst()
              .orElse(r.servedBy());
      String primary = d.route().tiers().isEmpty() ? "" : d.route().tiers().getFirst().targetId();
      // a fallback: the answer came from anything but the route's configured first target (down,
      // breaker open, excluded or failed), a cache hit aside
      boolean fallback =
          r.source() != GatewayResult.Source.CACHE
              && (r.source() != GatewayResult.Source.LIVE || !r.servedBy().equals(primary));
      return JsonValue.object(
          "route", d.route().name(),
          "primary", primary,
          "fallback", fallback,
          "reasons", d.reasons(),
          "source", r.source().name().toLowerCase(java.util.Locale.ROOT),
          "served_by", r.servedBy(),
          "provider", provider,
          "model", r.response().model(),
          "degraded", r.degraded(),
          "attempts", r.attempts(),
          "input_tokens_bound", d.inputTokens(),
          "reserved_micros", r.reservedMicros(),
          "cost_micros", r.costMicros(),
          "price_version", r.priceVersion());
    }
  }
}
