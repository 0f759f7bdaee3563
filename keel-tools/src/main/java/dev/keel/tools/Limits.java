package dev.keel.tools;

import java.util.Objects;

/**
 * Rate and concurrency limits of one tool, across the deployment and per tenant.
 *
 * @param perTool calls of the tool by anyone
 * @param perTenant calls of the tool by one tenant
 * @param maxConcurrentPerTool calls in flight by anyone, at least 1
 * @param maxConcurrentPerTenant calls in flight by one tenant, at least 1
 */
public record Limits(
    RateLimit perTool, RateLimit perTenant, int maxConcurrentPerTool, int maxConcurrentPerTenant) {

  /** Generous defaults: no rate limit, 64 in flight per tool and 16 per tenant. */
  public static final Limits DEFAULT = new Limits(RateLimit.UNLIMITED, RateLimit.UNLIMITED, 64, 16);

  /** Validates the numbers. */
  public Limits {
    Objects.requireNonNull(perTool, "perTool");
    Objects.requireNonNull(perTenant, "perTenant");
    if (maxConcurrentPerTool < 1 || maxConcurrentPerTenant < 1) {
      throw new IllegalArgumentException(
          "limits.maxConcurrentPerTool and maxConcurrentPerTenant must be >= 1, got "
              + maxConcurrentPerTool
              + " and "
              + maxConcurrentPerTenant);
    }
  }
}
