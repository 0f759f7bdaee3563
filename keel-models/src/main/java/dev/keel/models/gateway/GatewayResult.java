package dev.keel.models.gateway;

import dev.keel.model.ModelResponse;
import java.util.List;

/**
 * A gateway call's answer and its account: where it came from, whether it is degraded, why each
 * tier was chosen or skipped, what it cost.
 *
 * @param response the answer
 * @param source which tier answered
 * @param servedBy the model target that produced the answer ({@code rules} for the rule-based tier)
 * @param degraded whether the answer came from a tier marked degraded (stale cache, rules, or a
 *     live tier configured so)
 * @param decision the routing decision
 * @param attempts every attempt, in order, with its outcome
 * @param reservedMicros the cost reserved before the call that answered
 * @param costMicros the cost of the answer from the usage the provider reported (0 from a cache or
 *     rules)
 * @param priceVersion the price table version the costs were computed with
 */
public record GatewayResult(
    ModelResponse response,
    Source source,
    String servedBy,
    boolean degraded,
    RouteDecision decision,
    List<String> attempts,
    long reservedMicros,
    long costMicros,
    String priceVersion) {

  /** Copies the attempts. */
  public GatewayResult {
    attempts = List.copyOf(attempts);
  }

  /** Where an answer came from. */
  public enum Source {
    /** A live model tier. */
    LIVE,
    /** A fresh cached answer to a cacheable call. */
    CACHE,
    /** A stale cached answer served because every live tier failed. */
    STALE_CACHE,
    /** The rule-based tier. */
    RULES
  }
}
