package dev.keel.models.gateway;

import java.time.Duration;
import java.util.List;

/**
 * What the router chose for one call, and why.
 *
 * @param route the route that matched
 * @param tiers the live tiers that passed every filter, primary first
 * @param inputTokens the counted upper bound of the request's input tokens
 * @param reasons one sentence per choice and per target left out, in order
 */
public record RouteDecision(
    Route route, List<PlannedTier> tiers, long inputTokens, List<String> reasons) {

  /** Copies the lists. */
  public RouteDecision {
    tiers = List.copyOf(tiers);
    reasons = List.copyOf(reasons);
  }

  /**
   * One live tier as planned for this call.
   *
   * @param target the model target
   * @param timeout the tier's total time, retries included
   * @param degraded whether its answers are marked degraded
   * @param reservedMicros the cost reserved before the call: every input token uncached, the whole
   *     output allowance spent
   */
  public record PlannedTier(
      ModelTarget target, Duration timeout, boolean degraded, long reservedMicros) {}
}
