package dev.keel.tools.schema;

import java.util.Objects;

/**
 * One way a JSON instance breaks its schema.
 *
 * @param pointer JSON pointer (RFC 6901) to the offending value; empty for the root
 * @param keyword the schema keyword that failed, such as {@code minimum}
 * @param message what is wrong, in words a model or a person can act on
 */
public record Violation(String pointer, String keyword, String message) {
  /** Checks every field is present. */
  public Violation {
    Objects.requireNonNull(pointer, "pointer");
    Objects.requireNonNull(keyword, "keyword");
    Objects.requireNonNull(message, "message");
  }

  /** Renders the violation as {@code pointer: message}, the root shown as {@code (root)}. */
  public String render() {
    return (pointer.isEmpty() ? "(root)" : pointer) + ": " + message;
  }
}
