package dev.keel.model;

import dev.keel.json.JsonValue.JsonObject;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A normalized request to a model.
 *
 * @param model the model name as the provider knows it
 * @param messages the conversation, oldest first
 * @param tools the tools the model may call in this step
 * @param outputSchema a JSON Schema the answer must follow, if any
 * @param maxOutputTokens the most tokens the answer may use; also bounds its cost
 */
public record ModelRequest(
    String model,
    List<Message> messages,
    List<ToolSchema> tools,
    Optional<JsonObject> outputSchema,
    int maxOutputTokens) {

  /** Copies the lists and checks the bounds. */
  public ModelRequest {
    Objects.requireNonNull(model, "model");
    messages = List.copyOf(messages);
    tools = List.copyOf(tools);
    Objects.requireNonNull(outputSchema, "outputSchema");
    if (maxOutputTokens < 1) {
      throw new IllegalArgumentException(
          "maxOutputTokens must be at least 1, got " + maxOutputTokens);
    }
  }

  /**
   * A tool as the model sees it.
   *
   * @param name the namespaced tool name
   * @param description what the tool does, for the model
   * @param inputSchema the JSON Schema of its arguments
   */
  public record ToolSchema(String name, String description, JsonObject inputSchema) {
    /** Checks every field is present. */
    public ToolSchema {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(description, "description");
      Objects.requireNonNull(inputSchema, "inputSchema");
    }
  }
}
