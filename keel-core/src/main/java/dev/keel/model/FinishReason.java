package dev.keel.model;

/** Why a model stopped producing output. */
public enum FinishReason {
  /** The model finished its answer. */
  STOP,
  /** The model asked for tool calls. */
  TOOL_CALLS,
  /** The output token limit was reached. */
  LENGTH,
  /** A content filter stopped the answer. */
  CONTENT_FILTER,
  /** Anything else the provider reported. */
  OTHER
}
