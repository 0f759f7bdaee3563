package dev.keel.models.openairesponses;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.http.FailureClassifier;
import dev.keel.models.http.SseReader;
import dev.keel.models.http.Wire;

/**
 * Decodes a Responses stream: {@code response.output_item.added} opens a function call (keyed by
 * {@code output_index}), {@code response.output_text.delta} and {@code
 * response.function_call_arguments.delta} carry fragments, and {@code response.completed} or {@code
 * response.incomplete} end it with usage. {@code response.failed} and {@code error} fail the call.
 * Other events (content parts, reasoning summaries, done events) carry nothing new.
 */
public final class OpenAiResponsesStream implements SseReader.Handler {
  private final ResponseAssembler out;
  private final String provider;
  private boolean refused;

  /** Creates a decoder writing into {@code out}. */
  public OpenAiResponsesStream(ResponseAssembler out, String provider) {
    this.out = out;
    this.provider = provider;
  }

  @Override
  public boolean onEvent(SseReader.Event event) {
    JsonObject data = Wire.parseObject(provider, "a stream event", event.data());
    String type = Wire.str(data, "type", event.event());
    switch (type) {
      case "response.created", "response.in_progress" ->
          Wire.obj(data, "response").flatMap(r -> Wire.str(r, "model")).ifPresent(out::model);
      case "response.output_item.added" -> {
        JsonObject item = Wire.obj(data, "item").orElse(JsonValue.EMPTY_OBJECT);
        if (Wire.str(item, "type", "").equals("function_call")) {
          String key = String.valueOf(Wire.num(data, "output_index"));
          out.toolCallStart(key, Wire.str(item, "call_id", ""), Wire.str(item, "name", ""));
          out.toolCallArguments(key, Wire.str(item, "arguments", ""));
        }
      }
      case "response.output_text.delta" -> out.text(Wire.str(data, "delta", ""));
      case "response.refusal.delta" -> {
        refused = true;
        out.text(Wire.str(data, "delta", ""));
      }
      case "response.function_call_arguments.delta" ->
          out.toolCallArguments(
              String.valueOf(Wire.num(data, "output_index")), Wire.str(data, "delta", ""));
      case "response.completed", "response.incomplete" -> {
        JsonObject response = Wire.obj(data, "response").orElse(JsonValue.EMPTY_OBJECT);
        Wire.str(response, "model").ifPresent(out::model);
        Wire.obj(response, "usage").ifPresent(u -> out.usage(usage(u)));
        out.finish(finishReason(type, response));
        out.end();
        return false;
      }
      case "response.failed" ->
          throw FailureClassifier.classifyStreamError(
              provider,
              Wire.obj(data, "response")
                  .flatMap(r -> r.get("error"))
                  .map(Object::toString)
                  .orElse(event.data()));
      case "error" -> throw FailureClassifier.classifyStreamError(provider, event.data());
      default -> {
        // output_item.done, content_part.*, *.done, reasoning events
      }
    }
    return true;
  }

  private FinishReason finishReason(String type, JsonObject response) {
    if (refused) {
      return FinishReason.CONTENT_FILTER;
    }
    if (type.equals("response.incomplete")) {
      String reason =
          Wire.obj(response, "incomplete_details").flatMap(d -> Wire.str(d, "reason")).orElse("");
      return switch (reason) {
        case "max_output_tokens" -> FinishReason.LENGTH;
        case "content_filter" -> FinishReason.CONTENT_FILTER;
        default -> FinishReason.OTHER;
      };
    }
    return FinishReason.STOP;
  }

  /** Returns the assembled answer; fails when the stream was cut off. */
  public ModelResponse result() {
    return out.build();
  }

  static TokenUsage usage(JsonObject u) {
    long input = Wire.num(u, "input_tokens");
    long cached =
        Wire.obj(u, "input_tokens_details").map(d -> Wire.num(d, "cached_tokens")).orElse(0L);
    long reasoning =
        Wire.obj(u, "output_tokens_details").map(d -> Wire.num(d, "reasoning_tokens")).orElse(0L);
    return new TokenUsage(input, Wire.num(u, "output_tokens"), Math.min(cached, input), reasoning);
  }
}
