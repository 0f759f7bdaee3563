package dev.keel.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Small statistics over repeated measurements. */
final class Stats {
  private Stats() {}

  /** The median of {@code values}; the mean of the middle two when their number is even. */
  static double median(List<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("median of no values");
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The smallest and largest of {@code values}, as {@code "min..max"} with {@code digits}. */
  static String range(List<Double> values, int digits) {
    double min = Collections.min(values);
    double max = Collections.max(values);
    return Table.number(min, digits) + ".." + Table.number(max, digits);
  }
}
