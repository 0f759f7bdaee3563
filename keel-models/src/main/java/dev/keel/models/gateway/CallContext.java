package dev.keel.models.gateway;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What the gateway needs to know about a call besides the request itself.
 *
 * @param tenant the tenant the call is made for; keys the cache and selects the tenant policy
 * @param taskType what the call is for
 * @param complexity how hard it is
 * @param latencyBudget the longest the caller will wait; targets slower than this are skipped
 * @param costBudgetMicros the most this call may cost in micro-dollars; {@code Long.MAX_VALUE} for
 *     no limit
 * @param dataClass how sensitive the data is
 * @param requiredCapabilities capabilities needed beyond what the request itself shows
 * @param cacheable whether the answer may be served from and stored in the response cache
 */
public record CallContext(
    String tenant,
    TaskType taskType,
    Complexity complexity,
    Duration latencyBudget,
    long costBudgetMicros,
    DataClass dataClass,
    Set<Capability> requiredCapabilities,
    boolean cacheable) {

  /** Checks the fields. */
  public CallContext {
    if (tenant.isBlank()) {
      throw new IllegalArgumentException("call context tenant must not be blank");
    }
    Objects.requireNonNull(taskType, "taskType");
    Objects.requireNonNull(complexity, "complexity");
    if (latencyBudget.isNegative() || latencyBudget.isZero()) {
      throw new IllegalArgumentException("latencyBudget must be positive, got " + latencyBudget);
    }
    if (costBudgetMicros < 0) {
      throw new IllegalArgumentException(
          "costBudgetMicros must not be negative, got " + costBudgetMicros);
    }
    Objects.requireNonNull(dataClass, "dataClass");
    requiredCapabilities =
        requiredCapabilities.isEmpty()
            ? Set.of()
            : Set.copyOf(EnumSet.copyOf(requiredCapabilities));
  }

  /** A general, medium, internal, uncached call for {@code tenant} with no budgets. */
  public static CallContext of(String tenant) {
    return new CallContext(
        tenant,
        TaskType.GENERAL,
        Complexity.MEDIUM,
        Duration.ofMinutes(10),
        Long.MAX_VALUE,
        DataClass.INTERNAL,
        Set.of(),
        false);
  }

  /** The same context for another task type. */
  public CallContext withTaskType(TaskType t) {
    return new CallContext(
        tenant,
        t,
        complexity,
        latencyBudget,
        costBudgetMicros,
        dataClass,
        requiredCapabilities,
        cacheable);
  }

  /** The same context with another complexity. */
  public CallContext withComplexity(Complexity c) {
    return new CallContext(
        tenant,
        taskType,
        c,
        latencyBudget,
        costBudgetMicros,
        dataClass,
        requiredCapabilities,
        cacheable);
  }

  /** The same context with another latency budget. */
  public CallContext withLatencyBudget(Duration d) {
    return new CallContext(
        tenant,
        taskType,
        complexity,
        d,
        costBudgetMicros,
        dataClass,
        requiredCapabilities,
        cacheable);
  }

  /** The same context with another cost budget. */
  public CallContext withCostBudgetMicros(long micros) {
    return new CallContext(
        tenant,
        taskType,
        complexity,
        latencyBudget,
        micros,
        dataClass,
        requiredCapabilities,
        cacheable);
  }

  /** The same context with another data class. */
  public CallContext withDataClass(DataClass d) {
    return new CallContext(
        tenant,
        taskType,
        complexity,
        latencyBudget,
        costBudgetMicros,
        d,
        requiredCapabilities,
        cacheable);
  }

  /** The same context needing {@code capabilities}. */
  public CallContext withRequiredCapabilities(Set<Capability> capabilities) {
    return new CallContext(
        tenant,
        taskType,
        complexity,
        latencyBudget,
        costBudgetMicros,
        dataClass,
        capabilities,
        cacheable);
  }

  /** The same context, cacheable or not. */
  public CallContext withCacheable(boolean c) {
    return new CallContext(
        tenant,
        taskType,
        complexity,
        latencyBudget,
        costBudgetMicros,
        dataClass,
        requiredCapabilities,
        c);
  }

  /** The same context for another tenant. */
  public CallContext withTenant(String t) {
    return new CallContext(
        t,
        taskType,
        complexity,
        latencyBudget,
        costBudgetMicros,
        dataClass,
        requiredCapabilities,
        cacheable);
  }
}
