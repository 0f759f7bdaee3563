package dev.keel.model;

import dev.keel.json.JsonValue.JsonObject;
import java.util.Objects;

/**
 * A tool call a model asked for.
 *
 * @param id the provider's id for the call, unique within one response
 * @param name the tool's namespaced name
 * @param arguments the arguments as the model wrote them
 */
public record ToolCallRequest(String id, String name, JsonObject arguments) {
  /** Checks every field is present and the name is not blank. */
  public ToolCallRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(arguments, "arguments");
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("tool call name must not be blank");
    }
  }
}
