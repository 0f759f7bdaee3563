package dev.keel.json;

/**
 * Bounds a parser enforces on untrusted JSON text.
 *
 * @param maxDepth deepest nesting of arrays and objects
 * @param maxStringLength longest string, in UTF-16 units, keys included
 * @param maxNumberLength longest number literal, in characters
 * @param maxMembers most members of one object or items of one array
 * @param allowNul whether the NUL character may appear in strings
 */
public record JsonLimits(
    int maxDepth, int maxStringLength, int maxNumberLength, int maxMembers, boolean allowNul) {

  /** Limits for data Keel wrote itself (stored events): generous, NUL allowed. */
  public static final JsonLimits TRUSTED =
      new JsonLimits(512, Integer.MAX_VALUE, 4096, 1 << 24, true);

  /** Limits for request bodies and other untrusted input. */
  public static final JsonLimits UNTRUSTED = new JsonLimits(64, 1 << 20, 100, 10_000, false);

  /** Checks every bound is positive. */
  public JsonLimits {
    if (maxDepth < 1 || maxStringLength < 1 || maxNumberLength < 1 || maxMembers < 1) {
      throw new IllegalArgumentException("JSON limits must be positive: " + this);
    }
  }
}
