package dev.keel.tool;

import dev.keel.json.JsonValue;
import java.util.Objects;

/** The normalized outcome of a tool call: data, or an error the model can act on. */
public sealed interface ToolResult {

  /** The call succeeded with {@code data}. */
  record Success(JsonValue data) implements ToolResult {
    /** Checks the data is present. */
    public Success {
      Objects.requireNonNull(data, "data");
    }
  }

  /**
   * The call failed.
   *
   * @param type a stable machine name such as {@code timeout} or {@code invalid_arguments}
   * @param retryable whether the same call may succeed later
   * @param message what happened, for the model and the log
   * @param suggestedNextAction a hint for the model, possibly empty
   */
  record Failure(String type, boolean retryable, String message, String suggestedNextAction)
      implements ToolResult {
    /** Checks every field is present. */
    public Failure {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(suggestedNextAction, "suggestedNextAction");
    }
  }
}
