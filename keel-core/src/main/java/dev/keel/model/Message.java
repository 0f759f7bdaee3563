package dev.keel.model;

import dev.keel.json.JsonValue;
import java.util.List;
import java.util.Objects;

/** One message of a model conversation. */
public sealed interface Message {

  /** Instructions from the agent definition. */
  record System(String text) implements Message {
    /** Checks the text is present. */
    public System {
      Objects.requireNonNull(text, "text");
    }
  }

  /** A message from a person (or the run's goal). */
  record User(String text) implements Message {
    /** Checks the text is present. */
    public User {
      Objects.requireNonNull(text, "text");
    }
  }

  /** A model's answer: text and the tool calls it asked for. */
  record Assistant(String text, List<ToolCallRequest> toolCalls) implements Message {
    /** Copies the tool calls. */
    public Assistant {
      Objects.requireNonNull(text, "text");
      toolCalls = List.copyOf(toolCalls);
    }
  }

  /**
   * The result of one tool call, given back to the model as data labelled with its source, never as
   * instructions.
   */
  record ToolResult(String callId, String toolName, JsonValue content, boolean isError)
      implements Message {
    /** Checks every field is present. */
    public ToolResult {
      Objects.requireNonNull(callId, "callId");
      Objects.requireNonNull(toolName, "toolName");
      Objects.requireNonNull(content, "content");
    }
  }
}
