package dev.keel.models.openai;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.http.FailureClassifier;
import dev.keel.models.http.SseReader;
import dev.keel.models.http.Wire;
import java.util.Optional;

/**
 * Decodes a Chat Completions stream: {@code chat.completion.chunk} objects whose tool-call
 * fragments are keyed by {@code delta.tool_calls[].index} (id and name only in the first fragment),
 * a final chunk with empty {@code choices} and the {@code usage}, then {@code [DONE]}.
 */
public final class OpenAiChatStream implements SseReader.Handler {
  private final ResponseAssembler out;
  private final String provider;

  /** Creates a decoder writing into {@code out}. */
  public OpenAiChatStream(ResponseAssembler out, String provider) {
    this.out = out;
    this.provider = provider;
  }

  @Override
  public boolean onEvent(SseReader.Event event) {
    String data = event.data().strip();
    if (data.equals("[DONE]")) {
      out.end();
      return false;
    }
    JsonObject chunk = Wire.parseObject(provider, "a stream chunk", data);
    if (chunk.get("error").isPresent()) {
      throw FailureClassifier.classifyStreamError(provider, data);
    }
    Wire.str(chunk, "model").ifPresent(out::model);
    for (JsonObject choice : Wire.objects(chunk, "choices")) {
      Optional<JsonObject> delta = Wire.obj(choice, "delta");
      if (delta.isPresent()) {
        Wire.str(delta.get(), "content").ifPresent(out::text);
        for (JsonObject call : Wire.objects(delta.get(), "tool_calls")) {
          toolCallFragment(call);
        }
      }
      Wire.str(choice, "finish_reason").map(OpenAiChatStream::finishReason).ifPresent(out::finish);
    }
    Wire.obj(chunk, "usage").ifPresent(u -> out.usage(usage(u)));
    return true;
  }

  private void toolCallFragment(JsonObject call) {
    String key = String.valueOf(Wire.num(call, "index"));
    Optional<JsonObject> function = Wire.obj(call, "function");
    if (!out.hasToolCall(key)) {
      String name = function.flatMap(f -> Wire.str(f, "name")).orElse("");
      if (name.isBlank()) {
        throw Wire.malformed(
            provider, "tool call " + key + " has no name in its first fragment", null);
      }
      out.toolCallStart(key, Wire.str(call, "id", ""), name);
    }
    function.flatMap(f -> Wire.str(f, "arguments")).ifPresent(a -> out.toolCallArguments(key, a));
  }

  /** Returns the assembled answer; fails when the stream was cut off. */
  public ModelResponse result() {
    return out.build();
  }

  /** Maps OpenAI usage (chat and compatible servers) to {@link TokenUsage}. */
  static TokenUsage usage(JsonObject u) {
    long cached =
        Wire.obj(u, "prompt_tokens_details").map(d -> Wire.num(d, "cached_tokens")).orElse(0L);
    long reasoning =
        Wire.obj(u, "completion_tokens_details")
            .map(d -> Wire.num(d, "reasoning_tokens"))
            .orElse(0L);
    long input = Wire.num(u, "prompt_tokens");
    return new TokenUsage(
        input, Wire.num(u, "completion_tokens"), Math.min(cached, input), reasoning);
  }

  static FinishReason finishReason(String reason) {
    return switch (reason) {
      case "stop" -> FinishReason.STOP;
      case "length" -> FinishReason.LENGTH;
      case "tool_calls", "function_call" -> FinishReason.TOOL_CALLS;
      case "content_filter" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.OTHER;
    };
  }
}
