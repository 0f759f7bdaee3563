package dev.keel.models.anthropic;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.http.FailureClassifier;
import dev.keel.models.http.SseReader;
import dev.keel.models.http.Wire;
import java.util.HashSet;
import java.util.Set;

/**
 * Decodes an Anthropic Messages stream: {@code message_start}, content blocks ({@code
 * content_block_start}, {@code content_block_delta} with {@code text_delta} or {@code
 * input_json_delta}, {@code content_block_stop}), {@code message_delta} with the stop reason and
 * cumulative output tokens, then {@code message_stop}. {@code ping}, thinking and signature deltas
 * are skipped; an {@code error} event fails the call with its classified kind.
 *
 * <p>Anthropic's {@code input_tokens} excludes cache reads and writes; the normalized input count
 * adds them back, and cache reads are the cached count.
 */
public final class AnthropicStream implements SseReader.Handler {
  private final ResponseAssembler out;
  private final String provider;
  private final Set<String> structuredBlocks = new HashSet<>();
  private final StringBuilder structured = new StringBuilder();
  private long inputTokens;
  private long cacheRead;
  private long cacheWrite;
  private long outputTokens;

  /** Creates a decoder writing into {@code out}. */
  public AnthropicStream(ResponseAssembler out, String provider) {
    this.out = out;
    this.provider = provider;
  }

  @Override
  public boolean onEvent(SseReader.Event event) {
    JsonObject data = Wire.parseObject(provider, "a stream event", event.data());
    String type = Wire.str(data, "type", event.event());
    switch (type) {
      case "message_start" -> {
        JsonObject message = Wire.obj(data, "message").orElse(JsonValue.EMPTY_OBJECT);
        Wire.str(message, "model").ifPresent(out::model);
        Wire.obj(message, "usage").ifPresent(this::readUsage);
      }
      case "content_block_start" -> blockStart(data);
      case "content_block_delta" -> blockDelta(data);
      case "message_delta" -> {
        Wire.obj(data, "delta")
            .flatMap(d -> Wire.str(d, "stop_reason"))
            .ifPresent(r -> out.finish(finishReason(r)));
        Wire.obj(data, "usage").ifPresent(this::readUsage);
      }
      case "message_stop" -> {
        if (!structured.isEmpty()) {
          out.text(
              Wire.parseObject(provider, "the structured output", structured.toString())
                  .toString());
        }
        out.end();
        return false;
      }
      case "error" -> throw FailureClassifier.classifyStreamError(provider, event.data());
      default -> {
        // ping, content_block_stop and future event types carry nothing we need
      }
    }
    return true;
  }

  private void blockStart(JsonObject data) {
    String key = String.valueOf(Wire.num(data, "index"));
    JsonObject block = Wire.obj(data, "content_block").orElse(JsonValue.EMPTY_OBJECT);
    switch (Wire.str(block, "type", "")) {
      case "text" -> Wire.str(block, "text").ifPresent(out::text);
      case "tool_use" -> {
        String name = Wire.str(block, "name", "");
        if (name.equals(AnthropicProvider.STRUCTURED_TOOL)) {
          structuredBlocks.add(key);
        } else {
          out.toolCallStart(key, Wire.str(block, "id", ""), name);
        }
      }
      default -> {
        // thinking and server-tool blocks are not part of the normalized answer
      }
    }
  }

  private void blockDelta(JsonObject data) {
    String key = String.valueOf(Wire.num(data, "index"));
    JsonObject delta = Wire.obj(data, "delta").orElse(JsonValue.EMPTY_OBJECT);
    switch (Wire.str(delta, "type", "")) {
      case "text_delta" -> Wire.str(delta, "text").ifPresent(out::text);
      case "input_json_delta" -> {
        String fragment = Wire.str(delta, "partial_json", "");
        if (structuredBlocks.contains(key)) {
          structured.append(fragment);
        } else {
          out.toolCallArguments(key, fragment);
        }
      }
      default -> {
        // thinking_delta, signature_delta
      }
    }
  }

  private void readUsage(JsonObject u) {
    inputTokens = Wire.optNum(u, "input_tokens").orElse(inputTokens);
    cacheRead = Wire.optNum(u, "cache_read_input_tokens").orElse(cacheRead);
    cacheWrite = Wire.optNum(u, "cache_creation_input_tokens").orElse(cacheWrite);
    outputTokens = Wire.optNum(u, "output_tokens").orElse(outputTokens);
    out.usage(
        new TokenUsage(
            Math.max(0, inputTokens + cacheRead + cacheWrite),
            Math.max(0, outputTokens),
            Math.max(0, cacheRead),
            0));
  }

  /** Returns the assembled answer; fails when the stream was cut off. */
  public ModelResponse result() {
    ModelResponse r = out.build();
    if (!structuredBlocks.isEmpty()
        && r.finishReason() == FinishReason.TOOL_CALLS
        && r.toolCalls().isEmpty()) {
      return new ModelResponse(r.model(), r.text(), r.toolCalls(), r.usage(), FinishReason.STOP);
    }
    return r;
  }

  static FinishReason finishReason(String reason) {
    return switch (reason) {
      case "end_turn", "stop_sequence" -> FinishReason.STOP;
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "refusal" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.OTHER;
    };
  }
}
