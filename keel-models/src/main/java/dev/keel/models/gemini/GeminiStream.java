package dev.keel.models.gemini;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.http.FailureClassifier;
import dev.keel.models.http.SseReader;
import dev.keel.models.http.Wire;

/**
 * Decodes a Gemini {@code streamGenerateContent} SSE stream: each chunk is a {@code
 * GenerateContentResponse} whose first candidate carries text and {@code functionCall} parts
 * (arguments whole); the chunk with a {@code finishReason} ends the answer, usually with {@code
 * usageMetadata}. A prompt blocked by {@code promptFeedback.blockReason} fails as {@code
 * CONTENT_FILTERED}. Thought parts are skipped; thought tokens count as output and reasoning.
 */
public final class GeminiStream implements SseReader.Handler {
  private final ResponseAssembler out;
  private final String provider;
  private int calls;

  /** Creates a decoder writing into {@code out}. */
  public GeminiStream(ResponseAssembler out, String provider) {
    this.out = out;
    this.provider = provider;
  }

  @Override
  public boolean onEvent(SseReader.Event event) {
    JsonObject chunk = Wire.parseObject(provider, "a stream chunk", event.data());
    if (chunk.get("error").isPresent()) {
      throw FailureClassifier.classifyStreamError(provider, event.data());
    }
    Wire.str(chunk, "modelVersion").ifPresent(out::model);
    Wire.obj(chunk, "promptFeedback")
        .flatMap(f -> Wire.str(f, "blockReason"))
        .ifPresent(
            reason -> {
              throw new ModelException(
                  ModelException.Kind.CONTENT_FILTERED,
                  provider + " blocked the prompt: " + reason);
            });
    Wire.obj(chunk, "usageMetadata").ifPresent(u -> out.usage(usage(u)));
    for (JsonObject candidate : Wire.objects(chunk, "candidates").stream().limit(1).toList()) {
      JsonObject content = Wire.obj(candidate, "content").orElse(JsonValue.EMPTY_OBJECT);
      for (JsonObject part : Wire.objects(content, "parts")) {
        if (part.get("thought").filter(JsonValue.TRUE::equals).isPresent()) {
          continue;
        }
        Wire.str(part, "text").ifPresent(out::text);
        Wire.obj(part, "functionCall")
            .ifPresent(
                call -> {
                  String key = "call_" + calls++;
                  out.toolCall(
                      key,
                      Wire.str(call, "id", key),
                      Wire.str(call, "name", ""),
                      Wire.obj(call, "args").orElse(JsonValue.EMPTY_OBJECT));
                });
      }
      Wire.str(candidate, "finishReason")
          .ifPresent(
              r -> {
                out.finish(finishReason(r));
                out.end();
              });
    }
    return true;
  }

  /** Returns the assembled answer; fails when the stream was cut off. */
  public ModelResponse result() {
    return out.build();
  }

  static TokenUsage usage(JsonObject u) {
    long input = Wire.num(u, "promptTokenCount");
    long thoughts = Wire.num(u, "thoughtsTokenCount");
    long cached = Math.min(input, Wire.num(u, "cachedContentTokenCount"));
    return new TokenUsage(input, Wire.num(u, "candidatesTokenCount") + thoughts, cached, thoughts);
  }

  static FinishReason finishReason(String reason) {
    return switch (reason) {
      case "STOP" -> FinishReason.STOP;
      case "MAX_TOKENS" -> FinishReason.LENGTH;
      case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY" ->
          FinishReason.CONTENT_FILTER;
      default -> FinishReason.OTHER;
    };
  }
}
