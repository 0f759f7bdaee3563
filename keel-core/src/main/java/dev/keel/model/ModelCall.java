package dev.keel.model;

import dev.keel.json.JsonValue.JsonObject;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A provider's answer with its account.
 *
 * @param response the answer
 * @param routing what a routing provider decided (route, reasons, provider and model used, degraded
 *     tier, attempts); empty for a plain provider. The engine records it with the run.
 * @param costMicros the cost the provider computed from its own price table, if it did; otherwise
 *     the engine prices the usage
 */
public record ModelCall(ModelResponse response, JsonObject routing, OptionalLong costMicros) {
  /** Checks every field is present. */
  public ModelCall {
    Objects.requireNonNull(response, "response");
    Objects.requireNonNull(routing, "routing");
    Objects.requireNonNull(costMicros, "costMicros");
  }
}
