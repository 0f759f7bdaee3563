package dev.keel.model;

/**
 * Tokens one model call used, as the provider reported them.
 *
 * @param inputTokens prompt tokens, cached ones included
 * @param outputTokens completion tokens, reasoning ones included
 * @param cachedInputTokens prompt tokens served from the provider's cache
 * @param reasoningTokens completion tokens spent on hidden reasoning
 */
public record TokenUsage(
    long inputTokens, long outputTokens, long cachedInputTokens, long reasoningTokens) {

  /** No tokens. */
  public static final TokenUsage ZERO = new TokenUsage(0, 0, 0, 0);

  /** Checks no count is negative. */
  public TokenUsage {
    if (inputTokens < 0 || outputTokens < 0 || cachedInputTokens < 0 || reasoningTokens < 0) {
      throw new IllegalArgumentException(
          "token counts must not be negative: "
              + inputTokens
              + "/"
              + outputTokens
              + "/"
              + cachedInputTokens
              + "/"
              + reasoningTokens);
    }
  }

  /** Returns input and output tokens only. */
  public static TokenUsage of(long input, long output) {
    return new TokenUsage(input, output, 0, 0);
  }
}
