package dev.keel.models.gateway;

import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import java.util.Optional;

/** The last tier of a chain: an answer made without a model, such as a default label. */
@FunctionalInterface
public interface RuleBasedAnswer {
  /** An answer to {@code request}, if the rules have one. */
  Optional<ModelResponse> answer(ModelRequest request, CallContext context);
}
