package dev.keel.models;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonString;
import dev.keel.model.Message;

/**
 * Renders a tool result for protocols that take tool output as text. The result stays data: it is
 * sent in the provider's tool-result slot, tied to its call id and tool name, never merged into the
 * system or user prompt; an error result is marked as such.
 */
public final class ToolResultText {
  private ToolResultText() {}

  /** The text for {@code result}: a string as is, any other JSON value in canonical form. */
  public static String of(Message.ToolResult result) {
    String body =
        result.content() instanceof JsonString s ? s.value() : canonical(result.content());
    return result.isError() ? "Error from tool " + result.toolName() + ": " + body : body;
  }

  private static String canonical(JsonValue value) {
    return value.toString();
  }
}
