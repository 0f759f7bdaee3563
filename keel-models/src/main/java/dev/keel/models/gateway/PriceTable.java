package dev.keel.models.gateway;

import dev.keel.model.Pricing;
import java.util.Map;
import java.util.Optional;

/**
 * A versioned price table: what each model costs per million input, output and cached input tokens,
 * in micro-dollars. The version is recorded with every cost, so costs stay explainable after prices
 * change.
 *
 * @param version the table's version, such as {@code 2026-11-01}
 * @param prices prices by model name as the provider knows it
 */
public record PriceTable(String version, Map<String, Pricing> prices) {

  /** Checks the version and copies the prices. */
  public PriceTable {
    if (version.isBlank()) {
      throw new IllegalArgumentException("price table version must not be blank");
    }
    prices = Map.copyOf(prices);
  }

  /** An empty table: every model free. */
  public static PriceTable empty() {
    return new PriceTable("none", Map.of());
  }

  /** The price of {@code model}; free when the table does not list it. */
  public Pricing pricing(String model) {
    return Optional.ofNullable(prices.get(model)).orElse(Pricing.FREE);
  }

  /**
   * Reads a table from configuration keys: {@code version}, then {@code <model>.input}, {@code
   * <model>.output} and {@code <model>.cached} (micro-dollars per million tokens) for each model.
   *
   * @throws IllegalArgumentException naming the key whose value is not a non-negative integer
   */
  public static PriceTable fromConfig(Map<String, String> config) {
    String version = config.getOrDefault("version", "unversioned");
    java.util.Map<String, long[]> byModel = new java.util.TreeMap<>();
    for (Map.Entry<String, String> e : config.entrySet()) {
      String key = e.getKey();
      if (key.equals("version")) {
        continue;
      }
      int dot = key.lastIndexOf('.');
      if (dot < 1) {
        throw new IllegalArgumentException(
            "price key '" + key + "' must be <model>.input|output|cached");
      }
      String model = key.substring(0, dot);
      int slot =
          switch (key.substring(dot + 1)) {
            case "input" -> 0;
            case "output" -> 1;
            case "cached" -> 2;
            default ->
                throw new IllegalArgumentException(
                    "price key '" + key + "' must end in .input, .output or .cached");
          };
      long value;
      try {
        value = Long.parseLong(e.getValue().trim().replace("_", ""));
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException(
            "price '"
                + key
                + "' must be micro-dollars per million tokens, got '"
                + e.getValue()
                + "'",
            ex);
      }
      byModel.computeIfAbsent(model, m -> new long[3])[slot] = value;
    }
    java.util.Map<String, Pricing> prices = new java.util.HashMap<>();
    byModel.forEach((m, p) -> prices.put(m, new Pricing(p[0], p[1], p[2])));
    return new PriceTable(version, prices);
  }
}
