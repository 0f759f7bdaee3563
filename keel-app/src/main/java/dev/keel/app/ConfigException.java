package dev.keel.app;

import java.util.List;

/** The configuration is invalid; the message lists every problem with its key and what to do. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient List<String> problems;

  /** An exception listing {@code problems}. */
  public ConfigException(List<String> problems) {
    super(
        "invalid configuration:\n  - "
            + String.join("\n  - ", problems)
            + "\nFix the keys above in the --config file or the KEEL_* environment variables.");
    this.problems = List.copyOf(problems);
  }

  /** Each problem, naming its key. */
  public List<String> problems() {
    return problems;
  }
}
