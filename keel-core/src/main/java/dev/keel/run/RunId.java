package dev.keel.run;

import java.util.Objects;

/** A run's opaque id, always starting with {@code run_}. */
public record RunId(String value) implements Comparable<RunId> {
  /** Checks the prefix and the characters. */
  public RunId {
    Objects.requireNonNull(value, "value");
    if (!value.startsWith("run_") || !value.matches("run_[A-Za-z0-9_-]{1,64}")) {
      throw new IllegalArgumentException(
          "run id '" + value + "' must look like run_<letters, digits, _ or ->");
    }
  }

  /** Parses a run id. */
  public static RunId of(String value) {
    return new RunId(value);
  }

  @Override
  public int compareTo(RunId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
