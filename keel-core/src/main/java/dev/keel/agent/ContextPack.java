package dev.keel.agent;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.ModelRequest;
import java.util.Objects;

/**
 * The context of one model step, as sent and as recorded.
 *
 * @param request the request the model gets
 * @param refs the pack by reference: the SHA-256 of each part, the history window's bounds and
 *     hash, the tool names, the tokenizer, window and token count; recorded in {@code
 *     decision.recorded} so the step can be audited and replayed
 * @param tokens the request's input tokens as the tokenizer counts them
 * @param available the input tokens the window leaves after the output allowance
 * @param omittedMessages how many older history messages were left out to fit
 */
public record ContextPack(
    ModelRequest request, JsonObject refs, long tokens, long available, int omittedMessages) {

  /** Checks the parts are present. */
  public ContextPack {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(refs, "refs");
  }

  /** Whether the request fits the window; one that does not is never sent. */
  public boolean fits() {
    return tokens <= available;
  }
}
