package dev.keel.models.gateway;

import dev.keel.model.ModelProvider;
import dev.keel.models.anthropic.AnthropicProvider;
import dev.keel.models.bedrock.BedrockProvider;
import dev.keel.models.gemini.GeminiProvider;
import dev.keel.models.http.HttpEndpoint;
import dev.keel.models.http.SecretRef;
import dev.keel.models.ollama.OllamaProvider;
import dev.keel.models.openai.OpenAiChatProvider;
import dev.keel.models.openairesponses.OpenAiResponsesProvider;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Builds a {@link ModelGateway} from flat configuration keys, the one place that names concrete
 * adapters for the gateway. Keys (durations as {@code 500ms}, {@code 10s}, {@code 2m} or ISO-8601):
 *
 * <pre>
 * providers.NAME.protocol          openai-chat | openai-compatible | openai-responses | anthropic
 *                                  | ollama | gemini | bedrock
 * providers.NAME.base-url          API root, e.g. https://api.openai.com/v1
 * providers.NAME.api-key           env:VAR | file:/path | file:/path#KEY | none (default none)
 * providers.NAME.connect-timeout   default 10s
 * providers.NAME.request-timeout   default 60s
 * providers.NAME.region            bedrock only; AWS credentials from AWS_ACCESS_KEY_ID,
 *                                  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN unless
 *                                  providers.NAME.aws-access-key-id / aws-secret-access-key /
 *                                  aws-session-token give secret references
 * providers.NAME.breaker.failures  consecutive failures that open the breaker (default 5)
 * providers.NAME.breaker.open-for  how long it stays open (default 30s)
 * models.ID.provider, models.ID.model, models.ID.capabilities (tools,structured,vision),
 * models.ID.context-window (default 128000), models.ID.self-hosted (default false),
 * models.ID.typical-latency (default 2s)
 * prices.version, prices.MODEL.input|output|cached   micro-dollars per million tokens
 * routes.NAME.chain                target ids, primary first
 * routes.NAME.timeouts             one duration, or one per tier (default 60s)
 * routes.NAME.degraded             target ids whose answers are marked degraded
 * routes.NAME.task-types, routes.NAME.complexities   empty for any
 * routes.NAME.order                routes are tried by order, then name (default 100)
 * routes.NAME.stale-cache          serve a stale cached answer when all tiers fail (default true)
 * routes.NAME.rules                name of a rule-based answer passed to {@link #build}
 * tenants.TENANT.providers, tenants.TENANT.self-hosted-only
 * gateway.retry.ratio|initial|cap (0.2, 10, 100), gateway.max-attempts-per-tier (3),
 * gateway.cache.max-entries|fresh-for|stale-for (1000, 5m, 1h)
 * </pre>
 *
 * Unknown keys fail with the key named, so a typo never silently changes routing.
 */
public final class GatewayConfig {
  private final Map<String, String> config;

  private GatewayConfig(Map<String, String> config) {
    this.config = new TreeMap<>(config);
  }

  /**
   * Builds the gateway described by {@code config}.
   *
   * @param rules rule-based answers that routes may name in {@code routes.NAME.rules}
   * @throws IllegalArgumentException naming the key whose value is missing or wrong
   */
  public static ModelGateway build(
      Map<String, String> config, Map<String, RuleBasedAnswer> rules, InstantSource clock) {
    return new GatewayConfig(config).gateway(rules, clock);
  }

  private ModelGateway gateway(Map<String, RuleBasedAnswer> rules, InstantSource clock) {
    checkKeys();
    Map<String, ModelProvider> providers = new HashMap<>();
    Map<String, CircuitBreaker> breakers = new HashMap<>();
    for (String name : names("providers")) {
      providers.put(name, provider(name, clock));
      breakers.put(
          name,
          new CircuitBreaker(
              name,
              integer("providers." + name + ".breaker.failures", 5),
              duration("providers." + name + ".breaker.open-for", Duration.ofSeconds(30)),
              clock));
    }
    Map<String, ModelTarget> targets = new HashMap<>();
    for (String id : names("models")) {
      String p = "models." + id + ".";
      String provider = required(p + "provider");
      if (!providers.containsKey(provider)) {
        throw new IllegalArgumentException(
            p + "provider names unknown provider '" + provider + "'; known: " + providers.keySet());
      }
      targets.put(
          id,
          new ModelTarget(
              id,
              provider,
              required(p + "model"),
              capabilities(p + "capabilities"),
              integer(p + "context-window", 128_000),
              bool(p + "self-hosted", false),
              duration(p + "typical-latency", Duration.ofSeconds(2))));
    }
    List<Route> routes = new ArrayList<>();
    Map<Route, Integer> order = new HashMap<>();
    for (String name : names("routes")) {
      Route r = route(name, rules);
      routes.add(r);
      order.put(r, integer("routes." + name + ".order", 100));
    }
    routes.sort(Comparator.comparing((Route r) -> order.get(r)).thenComparing(Route::name));
    if (routes.isEmpty()) {
      throw new IllegalArgumentException("no routes configured: add routes.NAME.chain");
    }
    Map<String, TenantPolicy> policies = new HashMap<>();
    for (String tenant : names("tenants")) {
      policies.put(
          tenant,
          new TenantPolicy(
              tenant,
              Set.copyOf(list("tenants." + tenant + ".providers")),
              bool("tenants." + tenant + ".self-hosted-only", false)));
    }
    Map<String, String> priceKeys = new HashMap<>();
    config.forEach(
        (k, v) -> {
          if (k.startsWith("prices.")) {
            priceKeys.put(k.substring("prices.".length()), v);
          }
        });
    PriceTable prices = priceKeys.isEmpty() ? PriceTable.empty() : PriceTable.fromConfig(priceKeys);
    Router router = new Router(routes, targets, policies, prices, new TokenCounter());
    RetryBudget budget =
        new RetryBudget(
            decimal("gateway.retry.ratio", 0.2),
            decimal("gateway.retry.initial", 10),
            decimal("gateway.retry.cap", 100));
    ResponseCache cache =
        new ResponseCache(
            integer("gateway.cache.max-entries", 1000),
            duration("gateway.cache.fresh-for", Duration.ofMinutes(5)),
            duration("gateway.cache.stale-for", Duration.ofHours(1)),
            clock);
    return new ModelGateway(
        providers,
        router,
        cache,
        budget,
        breakers,
        integer("gateway.max-attempts-per-tier", 3),
        clock,
        Sleeper.system());
  }

  private ModelProvider provider(String name, InstantSource clock) {
    String p = "providers." + name + ".";
    String protocol = required(p + "protocol");
    HttpEndpoint endpoint =
        new HttpEndpoint(
            name,
            URI.create(required(p + "base-url")),
            SecretRef.parse(config.getOrDefault(p + "api-key", "none")),
            duration(p + "connect-timeout", Duration.ofSeconds(10)),
            duration(p + "request-timeout", Duration.ofSeconds(60)),
            Map.of());
    var client = dev.keel.models.http.HttpTransport.newClient(endpoint.connectTimeout());
    return switch (protocol) {
      case "openai-chat" ->
          new OpenAiChatProvider(endpoint, OpenAiChatProvider.Dialect.OPENAI, client, clock);
      case "openai-compatible" ->
          new OpenAiChatProvider(endpoint, OpenAiChatProvider.Dialect.COMPATIBLE, client, clock);
      case "openai-responses" -> new OpenAiResponsesProvider(endpoint, client, clock);
      case "anthropic" -> new AnthropicProvider(endpoint, client, clock);
      case "ollama" -> new OllamaProvider(endpoint, client, clock);
      case "gemini" -> new GeminiProvider(endpoint, client, clock);
      case "bedrock" ->
          new BedrockProvider(
              endpoint,
              new BedrockProvider.AwsAuth(
                  required(p + "region"),
                  SecretRef.parse(
                      config.getOrDefault(p + "aws-access-key-id", "env:AWS_ACCESS_KEY_ID")),
                  SecretRef.parse(
                      config.getOrDefault(
                          p + "aws-secret-access-key", "env:AWS_SECRET_ACCESS_KEY")),
                  SecretRef.parse(
                      config.getOrDefault(p + "aws-session-token", "env:AWS_SESSION_TOKEN"))),
              client,
              clock);
      default ->
          throw new IllegalArgumentException(
              p
                  + "protocol '"
                  + protocol
                  + "' is not one of openai-chat, openai-compatible, openai-responses, anthropic, ollama, gemini, bedrock");
    };
  }

  private Route route(String name, Map<String, RuleBasedAnswer> rules) {
    String p = "routes." + name + ".";
    List<String> chain = list(p + "chain");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException(p + "chain must name at least one model");
    }
    List<String> timeouts = list(p + "timeouts");
    if (timeouts.size() > 1 && timeouts.size() != chain.size()) {
      throw new IllegalArgumentException(
          p
              + "timeouts needs one value or one per tier ("
              + chain.size()
              + "), got "
              + timeouts.size());
    }
    Set<String> degraded = Set.copyOf(list(p + "degraded"));
    List<Tier> tiers = new ArrayList<>();
    for (int i = 0; i < chain.size(); i++) {
      Duration timeout =
          timeouts.isEmpty()
              ? Duration.ofSeconds(60)
              : parseDuration(p + "timeouts", timeouts.get(timeouts.size() == 1 ? 0 : i));
      tiers.add(new Tier(chain.get(i), timeout, degraded.contains(chain.get(i))));
    }
    Optional<RuleBasedAnswer> rule = Optional.empty();
    if (config.containsKey(p + "rules")) {
      String ruleName = config.get(p + "rules");
      rule =
          Optional.of(
              Optional.ofNullable(rules.get(ruleName))
                  .orElseThrow(
                      () ->
                          new IllegalArgumentException(
                              p
                                  + "rules names unknown rule '"
                                  + ruleName
                                  + "'; known: "
                                  + rules.keySet())));
    }
    return new Route(
        name,
        enums(p + "task-types", TaskType.class),
        enums(p + "complexities", Complexity.class),
        tiers,
        bool(p + "stale-cache", true),
        rule);
  }

  private static final Set<String> PROVIDER_KEYS =
      Set.of(
          "protocol",
          "base-url",
          "api-key",
          "connect-timeout",
          "request-timeout",
          "region",
          "aws-access-key-id",
          "aws-secret-access-key",
          "aws-session-token",
          "breaker.failures",
          "breaker.open-for");
  private static final Set<String> MODEL_KEYS =
      Set.of(
          "provider", "model", "capabilities", "context-window", "self-hosted", "typical-latency");
  private static final Set<String> ROUTE_KEYS =
      Set.of(
          "chain",
          "timeouts",
          "degraded",
          "task-types",
          "complexities",
          "order",
          "stale-cache",
          "rules");
  private static final Set<String> TENANT_KEYS = Set.of("providers", "self-hosted-only");
  private static final Set<String> GATEWAY_KEYS =
      Set.of(
          "retry.ratio",
          "retry.initial",
          "retry.cap",
          "max-attempts-per-tier",
          "cache.max-entries",
          "cache.fresh-for",
          "cache.stale-for");

  private void checkKeys() {
    for (String key : config.keySet()) {
      String[] parts = key.split("\\.", 3);
      boolean ok =
          switch (parts[0]) {
            case "providers" -> parts.length == 3 && PROVIDER_KEYS.contains(parts[2]);
            case "models" -> parts.length == 3 && MODEL_KEYS.contains(parts[2]);
            case "routes" -> parts.length == 3 && ROUTE_KEYS.contains(parts[2]);
            case "tenants" -> parts.length == 3 && TENANT_KEYS.contains(parts[2]);
            case "gateway" -> GATEWAY_KEYS.contains(key.substring("gateway.".length()));
            case "prices" -> true;
            default -> false;
          };
      if (!ok) {
        throw new IllegalArgumentException("unknown model gateway configuration key '" + key + "'");
      }
    }
  }

  private Set<String> names(String section) {
    Set<String> names = new TreeSet<>();
    for (String key : config.keySet()) {
      String[] parts = key.split("\\.", 3);
      if (parts[0].equals(section) && parts.length == 3) {
        names.add(parts[1]);
      }
    }
    return names;
  }

  private String required(String key) {
    String v = config.get(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("missing model gateway configuration key '" + key + "'");
    }
    return v.trim();
  }

  private List<String> list(String key) {
    String v = config.getOrDefault(key, "");
    return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private <E extends Enum<E>> Set<E> enums(String key, Class<E> type) {
    Set<E> out = EnumSet.noneOf(type);
    for (String item : list(key)) {
      try {
        out.add(Enum.valueOf(type, item.toUpperCase(Locale.ROOT).replace('-', '_')));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            key
                + ": '"
                + item
                + "' is not one of "
                + Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining(", ")),
            e);
      }
    }
    return out;
  }

  private Set<Capability> capabilities(String key) {
    Set<Capability> out = EnumSet.noneOf(Capability.class);
    for (String item : list(key)) {
      out.add(
          switch (item) {
            case "tools", "tool-calling" -> Capability.TOOL_CALLING;
            case "structured", "structured-output" -> Capability.STRUCTURED_OUTPUT;
            case "vision" -> Capability.VISION;
            default ->
                throw new IllegalArgumentException(
                    key + ": '" + item + "' is not one of tools, structured, vision");
          });
    }
    return out;
  }

  private int integer(String key, int fallback) {
    String v = config.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'", e);
    }
  }

  private double decimal(String key, double fallback) {
    String v = config.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
    }
  }

  private boolean bool(String key, boolean fallback) {
    String v = config.get(key);
    if (v == null) {
      return fallback;
    }
    return switch (v.trim()) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(key + " must be true or false, got '" + v + "'");
    };
  }

  private Duration duration(String key, Duration fallback) {
    String v = config.get(key);
    return v == null ? fallback : parseDuration(key, v);
  }

  /**
   * Parses {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h} or ISO-8601 such as {@code PT10S}.
   */
  static Duration parseDuration(String key, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.startsWith("pt")) {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      long n = Long.parseLong(v.substring(0, v.length() - 1));
      return switch (v.charAt(v.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException("no unit");
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          key + " must be a duration such as 500ms, 10s, 2m or PT10S, got '" + value + "'", e);
    }
  }
}
