package dev.keel.engine;

import java.security.SecureRandom;
import java.util.Random;

/**
 * Makes opaque ids with a type prefix, such as {@code run_...}; injected so runs can be replayed.
 */
@FunctionalInterface
public interface IdSource {

  /** A new id starting with {@code prefix + "_"}. */
  String next(String prefix);

  /** Ids with 120 random bits from a secure random source. */
  static IdSource random() {
    SecureRandom random = new SecureRandom();
    return prefix -> prefix + "_" + base32(random, 24);
  }

  /** Ids from a seeded source, for simulations and tests. */
  static IdSource seeded(long seed) {
    Random random = new Random(seed);
    return prefix -> prefix + "_" + base32(random, 16);
  }

  private static String base32(Random random, int chars) {
    final String alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    StringBuilder out = new StringBuilder(chars);
    for (int i = 0; i < chars; i++) {
      out.append(alphabet.charAt(random.nextInt(32)));
    }
    return out.toString();
  }
}
