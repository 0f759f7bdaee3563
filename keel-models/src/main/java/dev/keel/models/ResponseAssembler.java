package dev.keel.models;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.models.http.Wire;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Builds one {@link ModelResponse} from a provider's stream and forwards every fragment as a {@link
 * ModelDelta}.
 *
 * <p>Implementation notes: providers key tool-call fragments differently (OpenAI by {@code
 * tool_calls[].index}, Anthropic and Bedrock by content block index, Responses by output index).
 * The assembler takes any provider key and numbers calls by first appearance, so deltas and the
 * final list share one index space. Arguments are parsed only when the stream completes; a stream
 * that ends without a finish reason is truncated and fails as {@code MALFORMED_RESPONSE}, never as
 * a partial answer. An answer with tool calls that stopped normally or for a reason the adapter
 * does not know (Ollama and Gemini report plain stops) finishes as {@code TOOL_CALLS}.
 */
public final class ResponseAssembler {
  private final String provider;
  private final Consumer<ModelDelta> deltas;
  private final StringBuilder text = new StringBuilder();
  private final Map<String, Call> calls = new LinkedHashMap<>();
  private String model;
  private TokenUsage usage = TokenUsage.ZERO;
  private @Nullable FinishReason finishReason;
  private boolean ended;

  /** Creates an assembler for a stream from {@code provider} answering as {@code model}. */
  public ResponseAssembler(String provider, String model, Consumer<ModelDelta> deltas) {
    this.provider = provider;
    this.model = model;
    this.deltas = deltas;
  }

  /** Records the model name the provider reported. */
  public void model(String reported) {
    if (!reported.isBlank()) {
      this.model = reported;
    }
  }

  /** Appends a piece of text. */
  public void text(String piece) {
    if (!piece.isEmpty()) {
      text.append(piece);
      deltas.accept(new ModelDelta.Text(piece));
    }
  }

  /** Starts the tool call the provider keys as {@code key}, with its id and name. */
  public void toolCallStart(String key, String id, String name) {
    if (calls.containsKey(key)) {
      return;
    }
    String callId = id.isBlank() ? "call_" + calls.size() : id;
    Call call = new Call(calls.size(), callId, name);
    calls.put(key, call);
    deltas.accept(new ModelDelta.ToolCallStarted(call.index, callId, name));
  }

  /** Whether a tool call keyed {@code key} has started. */
  public boolean hasToolCall(String key) {
    return calls.containsKey(key);
  }

  /** Appends an argument fragment to the tool call keyed {@code key}. */
  public void toolCallArguments(String key, String fragment) {
    Call call = calls.get(key);
    if (call == null) {
      throw Wire.malformed(provider, "tool-call arguments for unknown call " + key, null);
    }
    if (!fragment.isEmpty()) {
      call.arguments.append(fragment);
      deltas.accept(new ModelDelta.ToolCallArguments(call.index, fragment));
    }
  }

  /** Adds a whole tool call whose arguments arrived as one object. */
  public void toolCall(String key, String id, String name, JsonObject arguments) {
    toolCallStart(key, id, name);
    toolCallArguments(key, arguments.toString());
  }

  /** Records the usage the provider reported; a later report replaces an earlier one. */
  public void usage(TokenUsage reported) {
    this.usage = reported;
  }

  /** The usage recorded so far. */
  public TokenUsage usage() {
    return usage;
  }

  /** Records why the answer stopped. */
  public void finish(FinishReason reason) {
    this.finishReason = reason;
  }

  /** Whether a finish reason has been recorded. */
  public boolean finished() {
    return finishReason != null;
  }

  /** Records that the provider's end-of-stream marker arrived. */
  public void end() {
    this.ended = true;
  }

  /**
   * Returns the whole answer.
   *
   * @throws ModelException {@code MALFORMED_RESPONSE} when the stream ended before a finish reason
   *     or its end marker, or a tool call's arguments are not a JSON object
   */
  public ModelResponse build() {
    FinishReason reason = finishReason;
    if (reason == null || !ended) {
      throw Wire.malformed(
          provider, "the stream ended before the answer finished (truncated stream)", null);
    }
    List<ToolCallRequest> out = new ArrayList<>(calls.size());
    for (Call call : calls.values()) {
      String args = call.arguments.isEmpty() ? "{}" : call.arguments.toString();
      JsonObject parsed =
          Wire.parseObject(
              provider, "the arguments of tool call " + call.id + " (" + call.name + ")", args);
      out.add(new ToolCallRequest(call.id, call.name, parsed));
    }
    if (!out.isEmpty() && (reason == FinishReason.STOP || reason == FinishReason.OTHER)) {
      reason = FinishReason.TOOL_CALLS;
    }
    return new ModelResponse(model, text.toString(), out, usage, reason);
  }

  private static final class Call {
    final int index;
    final String id;
    final String name;
    final StringBuilder arguments = new StringBuilder();

    Call(int index, String id, String name) {
      this.index = index;
      this.id = id;
      this.name = name;
    }
  }
}
