package dev.keel.models;

import java.util.Objects;

/** One fragment of a streamed answer. */
public sealed interface ModelDelta {

  /** A piece of the answer's text. */
  record Text(String text) implements ModelDelta {
    /** Checks the text is present. */
    public Text {
      Objects.requireNonNull(text, "text");
    }
  }

  /**
   * The start of a tool call: its position among this answer's tool calls, id and tool name.
   *
   * @param index the call's position in the answer, from 0
   * @param id the provider's call id (or a generated one when the provider gives none)
   * @param name the tool's name
   */
  record ToolCallStarted(int index, String id, String name) implements ModelDelta {
    /** Checks the fields. */
    public ToolCallStarted {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(name, "name");
    }
  }

  /**
   * A fragment of a tool call's JSON arguments; the fragments of one call concatenate to its
   * arguments.
   *
   * @param index the call's position in the answer, from 0
   * @param fragment the next characters of the arguments' JSON text
   */
  record ToolCallArguments(int index, String fragment) implements ModelDelta {
    /** Checks the fragment is present. */
    public ToolCallArguments {
      Objects.requireNonNull(fragment, "fragment");
    }
  }
}
