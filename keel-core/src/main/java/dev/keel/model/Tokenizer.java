package dev.keel.model;

import java.nio.charset.StandardCharsets;

/**
 * Counts the tokens of text for one model family, to fit a request into a context window. The
 * gateway supplies real BPE tokenizers (keel-models); the core only has {@link #approximate()}.
 */
public interface Tokenizer {

  /** A stable name recorded with every context pack, such as {@code o200k_base}. */
  String name();

  /** The number of tokens of {@code text}; an upper bound when the tokenizer is approximate. */
  int count(String text);

  /**
   * The approximation used when no real tokenizer is known: one token per 3 UTF-8 bytes, rounded
   * up. BPE tokenizers of current models average about 4 bytes of English per token, so this
   * overestimates by about a third: a safety margin, not a measurement.
   */
  static Tokenizer approximate() {
    return Approximate.INSTANCE;
  }

  /** See {@link #approximate()}. */
  final class Approximate implements Tokenizer {
    static final Approximate INSTANCE = new Approximate();

    private Approximate() {}

    @Override
    public String name() {
      return "approx_utf8_div3";
    }

    @Override
    public int count(String text) {
      return Math.ceilDiv(text.getBytes(StandardCharsets.UTF_8).length, 3);
    }
  }
}
