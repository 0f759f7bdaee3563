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

  /**
   * Ids that sort by creation time: 10 base32 characters of the epoch millisecond by {@code clock},
   * then 20 characters (100 bits) from a secure random source, ULID-like. Rows keyed by such ids
   * are appended at the end of their indexes instead of at random places, so a group commit of many
   * new runs writes a few index pages instead of one per run (decision 0046). The random part keeps
   * ids unguessable.
   */
  static IdSource timeOrdered(java.time.InstantSource clock) {
    SecureRandom random = new SecureRandom();
    final String alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    return prefix -> {
      long ms = clock.millis();
      byte[] bits = new byte[13];
      random.nextBytes(bits);
      StringBuilder out = new StringBuilder(prefix.length() + 31).append(prefix).append('_');
      for (int shift = 45; shift >= 0; shift -= 5) {
        out.append(alphabet.charAt((int) (ms >>> shift) & 31));
      }
      // 100 of the 104 random bits, five at a time.
      long hi = 0;
      for (int i = 0; i < 8; i++) {
        hi = (hi << 8) | (bits[i] & 0xff);
      }
      long lo = 0;
      for (int i = 8; i < 13; i++) {
        lo = (lo << 8) | (bits[i] & 0xff);
      }
      for (int shift = 59; shift >= 0; shift -= 5) {
        out.append(alphabet.charAt((int) (hi >>> shift) & 31));
      }
      for (int shift = 35; shift >= 0; shift -= 5) {
        out.append(alphabet.charAt((int) (lo >>> shift) & 31));
      }
      return out.toString();
    };
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
