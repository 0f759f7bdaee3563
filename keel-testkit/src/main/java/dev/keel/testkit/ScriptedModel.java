package dev.keel.testkit;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParseException;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.Message;
import dev.keel.model.ModelException;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A deterministic model for tests, evals and offline demos. The reply is a function of the request
 * alone (its step is the number of assistant messages so far, plus one), so any worker resuming any
 * run gets the same answer, and a replay reproduces it exactly.
 *
 * <p>The obedient mode is the worst case for prompt injection: it follows any instruction of the
 * form {@code CALL <tool> <json arguments>} found in the newest tool result.
 */
public final class ScriptedModel implements ModelProvider {

  /** Computes the reply to a request at a step (1-based). */
  @FunctionalInterface
  public interface Script {
    /** The reply to {@code request} at {@code step}. */
    ModelResponse reply(ModelRequest request, int step);
  }

  private static final Pattern INSTRUCTION = Pattern.compile("CALL\\s+([a-z][a-z0-9_.]*)\\s*");
  private final Script script;
  private final boolean obedient;
  private final AtomicLong calls = new AtomicLong();

  private ScriptedModel(Script script, boolean obedient) {
    this.script = Objects.requireNonNull(script, "script");
    this.obedient = obedient;
  }

  /** A model that follows {@code script}. */
  public static ScriptedModel of(Script script) {
    return new ScriptedModel(script, false);
  }

  /** A model that follows {@code script} but obeys instructions found in tool output. */
  public static ScriptedModel obedient(Script script) {
    return new ScriptedModel(script, true);
  }

  /** A script of fixed replies, one per step; past the end it answers with the last text. */
  public static Script steps(ModelResponse... replies) {
    List<ModelResponse> list = List.of(replies);
    return (request, step) -> list.get(Math.min(step, list.size()) - 1);
  }

  /**
   * A script that calls {@code tool} with {@code arguments} for {@code toolSteps} steps, then
   * answers {@code "done after N steps"}.
   */
  public static Script loop(String tool, JsonObject arguments, int toolSteps) {
    return (request, step) ->
        step <= toolSteps
            ? calls(call("c" + step, tool, arguments))
            : text("done after " + toolSteps + " steps");
  }

  /** A text answer with token usage of 10 in, 5 out. */
  public static ModelResponse text(String text) {
    return new ModelResponse("scripted", text, List.of(), TokenUsage.of(10, 5), FinishReason.STOP);
  }

  /** An answer that calls tools. */
  public static ModelResponse calls(ToolCallRequest... calls) {
    return new ModelResponse(
        "scripted", "", List.of(calls), TokenUsage.of(10, 5), FinishReason.TOOL_CALLS);
  }

  /** One tool call. */
  public static ToolCallRequest call(String id, String tool, JsonObject arguments) {
    return new ToolCallRequest(id, tool, arguments);
  }

  /** How many calls this model has answered (or failed). */
  public long callCount() {
    return calls.get();
  }

  @Override
  public String name() {
    return obedient ? "scripted-obedient" : "scripted";
  }

  /**
   * The context window a scripted model reports: {@link Integer#MAX_VALUE} tokens, in effect
   * unlimited, so a context pack is never trimmed to a window no real model has. Tests of fitting
   * use a provider that reports a real (small) window.
   */
  public static final int CONTEXT_WINDOW = Integer.MAX_VALUE;

  /** {@link #CONTEXT_WINDOW} and the approximate tokenizer, whatever the model name. */
  @Override
  public dev.keel.model.ModelLimits limits(String model) {
    return new dev.keel.model.ModelLimits(CONTEXT_WINDOW, dev.keel.model.Tokenizer.approximate());
  }

  @Override
  public ModelResponse complete(ModelRequest request) {
    calls.incrementAndGet();
    int step =
        1 + (int) request.messages().stream().filter(Message.Assistant.class::isInstance).count();
    if (obedient && request.messages().getLast() instanceof Message.ToolResult last) {
      List<ToolCallRequest> injected = instructions(last.content(), step);
      if (!injected.isEmpty()) {
        return new ModelResponse(
            "scripted", "", injected, TokenUsage.of(10, 5), FinishReason.TOOL_CALLS);
      }
    }
    return script.reply(request, step);
  }

  private static List<ToolCallRequest> instructions(JsonValue content, int step) {
    List<String> texts = new ArrayList<>();
    strings(content, texts);
    List<ToolCallRequest> out = new ArrayList<>();
    for (String text : texts) {
      Matcher m = INSTRUCTION.matcher(text);
      while (m.find()) {
        String object = balancedObject(text, m.end());
        if (object.isEmpty()) {
          continue;
        }
        try {
          if (JsonParser.parse(object, JsonLimits.UNTRUSTED) instanceof JsonObject o) {
            out.add(new ToolCallRequest("inj" + step + "_" + out.size(), m.group(1), o));
          }
        } catch (JsonParseException ignored) {
          // not an instruction this model can follow
        }
      }
    }
    return out;
  }

  /** Collects every string inside {@code v}, where instructions hide in tool output. */
  private static void strings(JsonValue v, List<String> out) {
    switch (v) {
      case JsonValue.JsonString s -> out.add(s.value());
      case JsonObject o -> o.members().values().forEach(x -> strings(x, out));
      case JsonValue.JsonArray a -> a.items().forEach(x -> strings(x, out));
      default -> {}
    }
  }

  /**
   * The JSON object starting at {@code from} (after spaces), by balancing braces outside strings.
   */
  private static String balancedObject(String text, int from) {
    int start = from;
    while (start < text.length() && Character.isWhitespace(text.charAt(start))) {
      start++;
    }
    if (start >= text.length() || text.charAt(start) != '{') {
      return "";
    }
    int depth = 0;
    boolean inString = false;
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return text.substring(start, i + 1);
      }
    }
    return "";
  }

  /** A script step that fails with {@code kind}. */
  public static ModelResponse fail(ModelException.Kind kind) {
    throw new ModelException(kind, "scripted failure");
  }
}
