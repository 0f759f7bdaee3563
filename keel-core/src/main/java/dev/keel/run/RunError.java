package dev.keel.run;

import java.util.Objects;

/**
 * Why a run ended without output.
 *
 * @param code a stable machine string such as {@code budget_exceeded}
 * @param message what happened, for people
 */
public record RunError(String code, String message) {
  /** Checks both fields are present. */
  public RunError {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
  }
}
