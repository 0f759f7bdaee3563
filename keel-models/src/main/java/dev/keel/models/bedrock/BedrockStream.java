package dev.keel.models.bedrock;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.models.ResponseAssembler;
import dev.keel.models.http.FailureClassifier;
import dev.keel.models.http.HttpTransport;
import dev.keel.models.http.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Decodes a Converse stream: event-stream messages {@code messageStart}, {@code contentBlockStart}
 * (a {@code toolUse} start with id and name), {@code contentBlockDelta} ({@code text} or {@code
 * toolUse.input} fragments, keyed by {@code contentBlockIndex}), {@code contentBlockStop}, {@code
 * messageStop} with the stop reason and {@code metadata} with the usage, which ends the stream.
 * Exception messages fail the call with their classified kind.
 */
public final class BedrockStream {
  private final ResponseAssembler out;
  private final String provider;
  private final Set<String> structuredBlocks = new HashSet<>();
  private final StringBuilder structured = new StringBuilder();

  /** Creates a decoder writing into {@code out}. */
  public BedrockStream(ResponseAssembler out, String provider) {
    this.out = out;
    this.provider = provider;
  }

  /** Reads every message of {@code in} and returns the assembled answer. */
  public ModelResponse read(InputStream in) {
    try (in) {
      EventStreamReader reader = new EventStreamReader(in, provider);
      EventStreamReader.Frame frame;
      while ((frame = reader.next()) != null) {
        if (!onFrame(frame)) {
          break;
        }
      }
    } catch (IOException e) {
      throw HttpTransport.brokenStream(provider, e);
    }
    ModelResponse r = out.build();
    if (!structuredBlocks.isEmpty() && r.toolCalls().isEmpty()) {
      return new ModelResponse(r.model(), r.text(), r.toolCalls(), r.usage(), FinishReason.STOP);
    }
    return r;
  }

  private boolean onFrame(EventStreamReader.Frame frame) {
    String messageType = frame.header(":message-type");
    if (messageType.equals("exception") || messageType.equals("error")) {
      String type = frame.header(":exception-type") + frame.header(":error-code");
      throw classify(provider, type, frame.payloadText() + " " + frame.header(":error-message"));
    }
    JsonObject data =
        Wire.parseObject(
            provider, "a " + frame.header(":event-type") + " event", frame.payloadText());
    switch (frame.header(":event-type")) {
      case "contentBlockStart" -> {
        String key = String.valueOf(Wire.num(data, "contentBlockIndex"));
        Wire.obj(data, "start")
            .flatMap(s -> Wire.obj(s, "toolUse"))
            .ifPresent(
                t -> {
                  String name = Wire.str(t, "name", "");
                  if (name.equals(BedrockProvider.STRUCTURED_TOOL)) {
                    structuredBlocks.add(key);
                  } else {
                    out.toolCallStart(key, Wire.str(t, "toolUseId", ""), name);
                  }
                });
      }
      case "contentBlockDelta" -> {
        String key = String.valueOf(Wire.num(data, "contentBlockIndex"));
        JsonObject delta = Wire.obj(data, "delta").orElse(JsonValue.EMPTY_OBJECT);
        Wire.str(delta, "text").ifPresent(out::text);
        Wire.obj(delta, "toolUse")
            .flatMap(t -> Wire.str(t, "input"))
            .ifPresent(
                fragment -> {
                  if (structuredBlocks.contains(key)) {
                    structured.append(fragment);
                  } else {
                    out.toolCallArguments(key, fragment);
                  }
                });
      }
      case "messageStop" -> {
        if (!structured.isEmpty()) {
          out.text(
              Wire.parseObject(provider, "the structured output", structured.toString())
                  .toString());
        }
        out.finish(finishReason(Wire.str(data, "stopReason", "")));
      }
      case "metadata" -> {
        Wire.obj(data, "usage").ifPresent(u -> out.usage(usage(u)));
        if (out.finished()) {
          out.end();
          return false;
        }
      }
      default -> {
        // messageStart, contentBlockStop
      }
    }
    return true;
  }

  static ModelException classify(String provider, String type, String message) {
    String lower = type.toLowerCase(Locale.ROOT);
    if (lower.contains("validation")) {
      String m = message.toLowerCase(Locale.ROOT);
      ModelException.Kind kind =
          m.contains("too long") || m.contains("context")
              ? ModelException.Kind.CONTEXT_TOO_LONG
              : ModelException.Kind.INVALID_REQUEST;
      return new ModelException(
          kind, provider + " reported " + type + ": " + Wire.excerpt(message));
    }
    if (lower.contains("modelstreamerror")) {
      return new ModelException(
          ModelException.Kind.OVERLOADED,
          provider + " reported " + type + ": " + Wire.excerpt(message));
    }
    return FailureClassifier.classifyStreamError(provider, type + ": " + message);
  }

  static TokenUsage usage(JsonObject u) {
    long cacheRead = Wire.num(u, "cacheReadInputTokens");
    long cacheWrite = Wire.num(u, "cacheWriteInputTokens");
    return new TokenUsage(
        Wire.num(u, "inputTokens") + cacheRead + cacheWrite,
        Wire.num(u, "outputTokens"),
        cacheRead,
        0);
  }

  static FinishReason finishReason(String reason) {
    return switch (reason) {
      case "end_turn", "stop_sequence" -> FinishReason.STOP;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "guardrail_intervened", "content_filtered" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.OTHER;
    };
  }
}
