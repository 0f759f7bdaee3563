package dev.keel.run;

import java.time.Duration;

/**
 * Hard limits of one run. Cost is in micro-dollars so sums stay exact.
 *
 * @param maxSteps most model steps
 * @param maxModelCalls most model calls
 * @param maxToolCalls most tool calls
 * @param maxCostMicros most spend, in micro-dollars
 * @param maxDuration most wall-clock time from creation
 */
public record Budget(
    int maxSteps, int maxModelCalls, int maxToolCalls, long maxCostMicros, Duration maxDuration) {

  /** The API's documented default: 50 steps, 20 model calls, 40 tool calls, $0.50, 600 s. */
  public static final Budget DEFAULT = new Budget(50, 20, 40, 500_000, Duration.ofSeconds(600));

  /** Checks every limit is positive. */
  public Budget {
    if (maxSteps < 1) {
      throw new IllegalArgumentException("budget.max_steps must be at least 1, got " + maxSteps);
    }
    if (maxModelCalls < 1) {
      throw new IllegalArgumentException(
          "budget.max_model_calls must be at least 1, got " + maxModelCalls);
    }
    if (maxToolCalls < 0) {
      throw new IllegalArgumentException(
          "budget.max_tool_calls must not be negative, got " + maxToolCalls);
    }
    if (maxCostMicros < 0) {
      throw new IllegalArgumentException("budget.max_cost_usd must not be negative");
    }
    if (maxDuration.isNegative() || maxDuration.isZero()) {
      throw new IllegalArgumentException("budget.max_duration_s must be positive");
    }
  }
}
