package dev.keel.models.gateway;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A declarative route: which calls it takes and the fallback chain that serves them. The chain is
 * the live tiers in order, then (when {@code staleCacheTier} is set) a stale cached answer, then
 * the rule-based answer, if any.
 *
 * @param name the route's name, recorded in every decision
 * @param taskTypes the task types it takes; empty for any
 * @param complexities the complexities it takes; empty for any
 * @param tiers the live tiers, primary first
 * @param staleCacheTier whether a stale cached answer may be served, degraded, when every live tier
 *     failed
 * @param ruleBased the rule-based last tier, if any
 */
public record Route(
    String name,
    Set<TaskType> taskTypes,
    Set<Complexity> complexities,
    List<Tier> tiers,
    boolean staleCacheTier,
    Optional<RuleBasedAnswer> ruleBased) {

  /** Checks the fields and copies the collections. */
  public Route {
    if (name.isBlank()) {
      throw new IllegalArgumentException("route name must not be blank");
    }
    taskTypes = taskTypes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(taskTypes));
    complexities = complexities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(complexities));
    tiers = List.copyOf(tiers);
    if (tiers.isEmpty()) {
      throw new IllegalArgumentException("route " + name + " needs at least one tier");
    }
    Objects.requireNonNull(ruleBased, "ruleBased");
  }

  /** A route taking every call, over {@code targetIds} with {@code timeout} per tier. */
  public static Route any(String name, Duration timeout, String... targetIds) {
    return new Route(
        name,
        Set.of(),
        Set.of(),
        java.util.Arrays.stream(targetIds).map(id -> new Tier(id, timeout, false)).toList(),
        true,
        Optional.empty());
  }

  /** Whether this route takes a call with {@code context}. */
  public boolean matches(CallContext context) {
    return (taskTypes.isEmpty() || taskTypes.contains(context.taskType()))
        && (complexities.isEmpty() || complexities.contains(context.complexity()));
  }
}
