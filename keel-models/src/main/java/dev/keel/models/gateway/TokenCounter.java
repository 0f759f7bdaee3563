package dev.keel.models.gateway;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.models.ToolResultText;

/**
 * Counts a request's input tokens before the call, to reserve its cost and check context windows.
 *
 * <p>Implementation notes: the count uses the {@code o200k_base} BPE (jtokkit), exact for current
 * OpenAI models; other providers tokenize differently, so the count adds a safety margin (10% plus
 * 4 tokens of framing per message and 8 per tool) and is meant as an upper bound, never as billing.
 * Billing always uses the usage the provider reports.
 */
public final class TokenCounter {
  private static final int PER_MESSAGE = 4;
  private static final int PER_TOOL = 8;

  private final Encoding encoding;

  /** Creates a counter over {@code o200k_base}; the encoding tables load once per JVM. */
  public TokenCounter() {
    this.encoding = Shared.O200K;
  }

  private static final class Shared {
    static final Encoding O200K =
        Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
  }

  /** The exact {@code o200k_base} token count of {@code text}. */
  public int count(String text) {
    return encoding.countTokens(text);
  }

  /** An upper bound of {@code request}'s input tokens. */
  public long inputUpperBound(ModelRequest request) {
    long tokens = 3;
    for (Message m : request.messages()) {
      tokens += PER_MESSAGE;
      tokens +=
          switch (m) {
            case Message.System s -> count(s.text());
            case Message.User u -> count(u.text());
            case Message.Assistant a ->
                count(a.text())
                    + a.toolCalls().stream()
                        .mapToLong(
                            c -> count(c.name()) + count(c.arguments().toString()) + PER_TOOL)
                        .sum();
            case Message.ToolResult r -> count(ToolResultText.of(r)) + count(r.toolName());
          };
    }
    for (ModelRequest.ToolSchema tool : request.tools()) {
      tokens +=
          PER_TOOL
              + count(tool.name())
              + count(tool.description())
              + count(tool.inputSchema().toString());
    }
    tokens += request.outputSchema().map(s -> (long) count(s.toString())).orElse(0L);
    return tokens + (tokens + 9) / 10;
  }
}
