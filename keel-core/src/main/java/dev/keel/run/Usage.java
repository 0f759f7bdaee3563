package dev.keel.run;

import dev.keel.model.TokenUsage;

/**
 * What a run has used so far.
 *
 * @param modelCalls model calls with a recorded response
 * @param toolCalls tool calls started
 * @param inputTokens input tokens of recorded responses
 * @param outputTokens output tokens of recorded responses
 * @param costMicros spend of recorded responses, in micro-dollars
 */
public record Usage(
    int modelCalls, int toolCalls, long inputTokens, long outputTokens, long costMicros) {

  /** Nothing used. */
  public static final Usage ZERO = new Usage(0, 0, 0, 0, 0);

  /** Adds one recorded model call. */
  public Usage plusModelCall(TokenUsage tokens, long cost) {
    return new Usage(
        modelCalls + 1,
        toolCalls,
        inputTokens + tokens.inputTokens(),
        outputTokens + tokens.outputTokens(),
        costMicros + cost);
  }

  /** Adds one started tool call. */
  public Usage plusToolCall() {
    return new Usage(modelCalls, toolCalls + 1, inputTokens, outputTokens, costMicros);
  }
}
