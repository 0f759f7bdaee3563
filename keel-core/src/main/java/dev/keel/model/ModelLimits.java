package dev.keel.model;

import java.util.Objects;

/**
 * What the context assembler must know about the model a request may reach.
 *
 * @param contextWindow the most tokens of input plus output the model accepts
 * @param tokenizer counts tokens as (or more pessimistically than) the model does
 */
public record ModelLimits(int contextWindow, Tokenizer tokenizer) {

  /**
   * The limits of a model nobody configured: a 32,768-token window (small enough for every model
   * Keel's providers serve today) and the approximate tokenizer.
   */
  public static final ModelLimits DEFAULT = new ModelLimits(32_768, Tokenizer.approximate());

  /** Checks the fields. */
  public ModelLimits {
    if (contextWindow < 1) {
      throw new IllegalArgumentException("contextWindow must be positive, got " + contextWindow);
    }
    Objects.requireNonNull(tokenizer, "tokenizer");
  }
}
