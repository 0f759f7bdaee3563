package dev.keel.models;

import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import java.util.function.Consumer;

/**
 * A model provider that can stream its answer. {@link #complete} assembles exactly the response
 * {@link #stream} returns, so callers that do not care about deltas lose nothing.
 */
public interface StreamingModelProvider extends ModelProvider {

  /**
   * Sends {@code request}, hands every text and tool-call fragment to {@code deltas} as it arrives
   * and returns the assembled answer.
   *
   * @throws dev.keel.model.ModelException when the call fails or the stream is cut off
   */
  ModelResponse stream(ModelRequest request, Consumer<ModelDelta> deltas);

  /** Streams {@code request}, ignoring the deltas, and returns the assembled answer. */
  @Override
  default ModelResponse complete(ModelRequest request) {
    return stream(request, delta -> {});
  }
}
