package dev.keel.model;

import java.util.List;
import java.util.Objects;

/**
 * A normalized model answer.
 *
 * @param model the model that answered (the provider's name for it)
 * @param text the answer's text, possibly empty when it only calls tools
 * @param toolCalls the tool calls it asked for, in order
 * @param usage the tokens it used
 * @param finishReason why it stopped
 */
public record ModelResponse(
    String model,
    String text,
    List<ToolCallRequest> toolCalls,
    TokenUsage usage,
    FinishReason finishReason) {

  /** Copies the tool calls and checks every field is present. */
  public ModelResponse {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(text, "text");
    toolCalls = List.copyOf(toolCalls);
    Objects.requireNonNull(usage, "usage");
    Objects.requireNonNull(finishReason, "finishReason");
  }
}
