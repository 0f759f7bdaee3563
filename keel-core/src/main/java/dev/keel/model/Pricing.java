package dev.keel.model;

/**
 * What a model costs, in micro-dollars (1e-6 USD) per million tokens, so sums stay exact.
 *
 * @param inputPerMillion price of a million input tokens
 * @param outputPerMillion price of a million output tokens
 * @param cachedInputPerMillion price of a million cached input tokens
 */
public record Pricing(long inputPerMillion, long outputPerMillion, long cachedInputPerMillion) {

  /** A free model (scripted or self-hosted). */
  public static final Pricing FREE = new Pricing(0, 0, 0);

  /** Checks no price is negative. */
  public Pricing {
    if (inputPerMillion < 0 || outputPerMillion < 0 || cachedInputPerMillion < 0) {
      throw new IllegalArgumentException("prices must not be negative");
    }
  }

  /** The cost of {@code usage} in micro-dollars, rounded up. */
  public long costMicros(TokenUsage usage) {
    long uncached = Math.max(0, usage.inputTokens() - usage.cachedInputTokens());
    return ceilDiv(
        uncached * inputPerMillion
            + usage.cachedInputTokens() * cachedInputPerMillion
            + usage.outputTokens() * outputPerMillion);
  }

  /**
   * A pessimistic bound of a call's cost before it is made: every input token uncached and the
   * whole output allowance spent.
   */
  public long maxCostMicros(long inputTokensUpperBound, long maxOutputTokens) {
    return ceilDiv(inputTokensUpperBound * inputPerMillion + maxOutputTokens * outputPerMillion);
  }

  private static long ceilDiv(long microsTimesMillion) {
    return Math.ceilDiv(microsTimesMillion, 1_000_000L);
  }
}
