package dev.keel.models.gateway;

import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The model gateway: routes a call, walks its fallback chain and accounts for it.
 *
 * <p>Implementation notes. For each call: the router picks a route and filters its tiers (each
 * exclusion is a recorded reason). A cacheable call is answered from a fresh cache entry when one
 * exists. Otherwise the live tiers are tried in order. A tier is skipped while its provider's
 * circuit is open or the provider's Retry-After has not passed. Within a tier, each attempt runs on
 * a virtual thread and gets what is left of the tier's timeout; a retryable failure is retried on
 * the same tier only when the retry budget grants it and the wait (the provider's Retry-After, else
 * exponential backoff) still fits the tier's time; otherwise the chain moves on. Failures that say
 * the provider is unhealthy (retryable kinds and authentication) count against its breaker; a
 * rejected request does not. When every live tier failed: a stale cached answer, then the
 * rule-based answer, both marked degraded; failing those, the last failure is thrown with every
 * attempt in its message.
 */
public final class ModelGateway implements AutoCloseable {
  private static final Duration BASE_BACKOFF = Duration.ofMillis(200);

  private final Map<String, ModelProvider> providers;
  private final Router router;
  private final ResponseCache cache;
  private final RetryBudget retries;
  private final Map<String, CircuitBreaker> breakers;
  private final int maxAttemptsPerTier;
  private final InstantSource clock;
  private final Sleeper sleeper;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * Creates a gateway.
   *
   * @param providers the providers by name
   * @param router the router
   * @param cache the response cache
   * @param retries the retry budget shared by every call
   * @param breakers one breaker per provider name; a provider without one gets none
   * @param maxAttemptsPerTier the most attempts on one tier within one call
   * @param clock the clock for deadlines
   * @param sleeper waits between retries
   */
  public ModelGateway(
      Map<String, ModelProvider> providers,
      Router router,
      ResponseCache cache,
      RetryBudget retries,
      Map<String, CircuitBreaker> breakers,
      int maxAttemptsPerTier,
      InstantSource clock,
      Sleeper sleeper) {
    this.providers = Map.copyOf(providers);
    this.router = router;
    this.cache = cache;
    this.retries = retries;
    this.breakers = Map.copyOf(breakers);
    if (maxAttemptsPerTier < 1) {
      throw new IllegalArgumentException(
          "maxAttemptsPerTier must be at least 1, got " + maxAttemptsPerTier);
    }
    this.maxAttemptsPerTier = maxAttemptsPerTier;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  /** Stops the executor that runs attempts; calls in flight finish. */
  @Override
  public void close() {
    executor.close();
  }

  /**
   * The context limits a call through this gateway must respect: the smallest context window of any
   * target a route may reach (a fallback may land on it), and a tokenizer that counts at least as
   * many tokens as each of those targets' families does.
   */
  public dev.keel.model.ModelLimits limits() {
    int window = Integer.MAX_VALUE;
    java.util.Map<String, dev.keel.model.Tokenizer> tokenizers = new java.util.TreeMap<>();
    for (ModelTarget t : router.routedTargets()) {
      window = Math.min(window, t.contextWindow());
      dev.keel.model.Tokenizer tk = dev.keel.models.FamilyTokenizers.forModel(t.model());
      tokenizers.putIfAbsent(tk.name(), tk);
    }
    if (tokenizers.isEmpty()) {
      return dev.keel.model.ModelLimits.DEFAULT;
    }
    return new dev.keel.model.ModelLimits(
        window, dev.keel.models.FamilyTokenizers.largestOf(tokenizers.values()));
  }

  /** The breaker guarding {@code provider}, if it has one. */
  public Optional<CircuitBreaker> breaker(String provider) {
    return Optional.ofNullable(breakers.get(provider));
  }

  /**
   * Answers {@code request} in {@code context}.
   *
   * @throws ModelException the last failure when no tier answered; its message lists every attempt
   */
  public GatewayResult call(ModelRequest request, CallContext context) {
    RouteDecision decision = router.decide(request, context);
    retries.recordCall();
    String priceVersion = router.prices().version();
    String key = ResponseCache.key(context.tenant(), decision.route().name(), request);
    List<String> attempts = new ArrayList<>();
    if (context.cacheable()) {
      Optional<ResponseCache.Entry> hit = cache.fresh(key);
      if (hit.isPresent()) {
        attempts.add("fresh cache hit stored at " + hit.get().storedAt());
        return new GatewayResult(
            hit.get().response(),
            GatewayResult.Source.CACHE,
            hit.get().servedBy(),
            false,
            decision,
            attempts,
            0,
            0,
            priceVersion);
      }
    }
    ModelException last = null;
    for (RouteDecision.PlannedTier tier : decision.tiers()) {
      ModelTarget target = tier.target();
      ModelProvider provider = providers.get(target.provider());
      if (provider == null) {
        attempts.add(target.id() + ": skipped, no provider named " + target.provider());
        continue;
      }
      Optional<CircuitBreaker> breaker = breaker(target.provider());
      Instant deadline = clock.instant().plus(tier.timeout());
      for (int attempt = 1; attempt <= maxAttemptsPerTier; attempt++) {
        Optional<String> refusal = breaker.flatMap(CircuitBreaker::refusal);
        if (refusal.isPresent()) {
          attempts.add(target.id() + ": skipped, " + refusal.get());
          break;
        }
        Duration left = Duration.between(clock.instant(), deadline);
        if (left.isNegative() || left.isZero()) {
          attempts.add(target.id() + ": tier timeout " + tier.timeout() + " spent");
          breaker.ifPresent(CircuitBreaker::neutral);
          break;
        }
        ModelRequest forTarget =
            new ModelRequest(
                target.model(),
                request.messages(),
                request.tools(),
                request.outputSchema(),
                request.maxOutputTokens());
        try {
          ModelResponse response = attempt(provider, forTarget, left);
          breaker.ifPresent(CircuitBreaker::success);
          attempts.add(target.id() + ": answered on attempt " + attempt);
          if (context.cacheable()) {
            cache.put(key, response, target.id());
          }
          long cost = router.prices().pricing(target.model()).costMicros(response.usage());
          return new GatewayResult(
              response,
              GatewayResult.Source.LIVE,
              target.id(),
              tier.degraded(),
              decision,
              attempts,
              tier.reservedMicros(),
              cost,
              priceVersion);
        } catch (ModelException e) {
          last = e;
          attempts.add(target.id() + ": attempt " + attempt + " failed: " + e.getMessage());
          boolean unhealthy = e.retryable() || e.kind() == Kind.AUTHENTICATION;
          breaker.ifPresent(
              b -> {
                if (unhealthy) {
                  b.failure();
                } else {
                  b.neutral();
                }
              });
          e.retryAfter().ifPresent(d -> breaker.ifPresent(b -> b.coolDown(d)));
          if (!e.retryable() || attempt == maxAttemptsPerTier) {
            break;
          }
          Duration wait = e.retryAfter().orElse(BASE_BACKOFF.multipliedBy(1L << (attempt - 1)));
          if (clock.instant().plus(wait).isAfter(deadline)) {
            attempts.add(
                target.id() + ": no retry, waiting " + wait + " would pass the tier timeout");
            break;
          }
          if (!retries.tryRetry()) {
            attempts.add(target.id() + ": no retry, the retry budget is spent");
            break;
          }
          sleep(wait);
        }
      }
    }
    if (decision.route().staleCacheTier()) {
      Optional<ResponseCache.Entry> stale = cache.stale(key);
      if (stale.isPresent()) {
        attempts.add("served a cached answer stored at " + stale.get().storedAt() + ", degraded");
        return new GatewayResult(
            stale.get().response(),
            GatewayResult.Source.STALE_CACHE,
            stale.get().servedBy(),
            true,
            decision,
            attempts,
            0,
            0,
            priceVersion);
      }
    }
    if (decision.route().ruleBased().isPresent()) {
      Optional<ModelResponse> rules = decision.route().ruleBased().get().answer(request, context);
      if (rules.isPresent()) {
        attempts.add("served the rule-based answer, degraded");
        return new GatewayResult(
            rules.get(),
            GatewayResult.Source.RULES,
            "rules",
            true,
            decision,
            attempts,
            0,
            0,
            priceVersion);
      }
    }
    Kind kind = last == null ? Kind.OVERLOADED : last.kind();
    throw new ModelException(
        kind,
        "every tier of route "
            + decision.route().name()
            + " failed for tenant "
            + context.tenant()
            + ": "
            + String.join("; ", decision.reasons())
            + (attempts.isEmpty() ? "" : "; " + String.join("; ", attempts)),
        last == null ? Optional.empty() : last.retryAfter(),
        last);
  }

  /**
   * This gateway as a plain {@link ModelProvider}: every call uses {@code context}, and {@code
   * observer} sees each result (for events and metrics) before the answer is returned.
   */
  public ModelProvider asProvider(
      String name, CallContext context, Consumer<GatewayResult> observer) {
    return new ModelProvider() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public ModelResponse complete(ModelRequest request) {
        GatewayResult result = ModelGateway.this.call(request, context);
        observer.accept(result);
        return result.response();
      }
    };
  }

  private ModelResponse attempt(ModelProvider provider, ModelRequest request, Duration timeout) {
    Future<ModelResponse> future = executor.submit(() -> provider.complete(request));
    try {
      return future.get(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new ModelException(
          Kind.TIMEOUT,
          provider.name() + ": no answer within the tier's " + timeout,
          Optional.empty(),
          e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ModelException me) {
        throw me;
      }
      if (e.getCause() instanceof RuntimeException re) {
        throw new ModelException(
            Kind.MALFORMED_RESPONSE,
            provider.name() + " failed unexpectedly: " + re,
            Optional.empty(),
            re);
      }
      throw new IllegalStateException(provider.name() + " failed", e.getCause());
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new ModelException(
          Kind.TIMEOUT, "interrupted while waiting for " + provider.name(), Optional.empty(), e);
    }
  }

  private void sleep(Duration wait) {
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ModelException(
          Kind.TIMEOUT, "interrupted while waiting to retry", Optional.empty(), e);
    }
  }
}
