package dev.keel.models.gateway;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One model a route can send calls to.
 *
 * @param id the target's name in routes, such as {@code fast}
 * @param provider the name of the provider that serves it
 * @param model the model name as that provider knows it
 * @param capabilities what the model can do
 * @param contextWindow the most tokens of input plus output it accepts
 * @param selfHosted whether it runs on infrastructure the operator controls (may see confidential
 *     data)
 * @param typicalLatency how long a call usually takes, matched against latency budgets
 */
public record ModelTarget(
    String id,
    String provider,
    String model,
    Set<Capability> capabilities,
    int contextWindow,
    boolean selfHosted,
    Duration typicalLatency) {

  /** Checks the fields. */
  public ModelTarget {
    if (id.isBlank() || provider.isBlank() || model.isBlank()) {
      throw new IllegalArgumentException("model target id, provider and model must not be blank");
    }
    capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
    if (contextWindow < 1) {
      throw new IllegalArgumentException("model target " + id + ": contextWindow must be positive");
    }
    Objects.requireNonNull(typicalLatency, "typicalLatency");
  }
}
