package dev.keel.model;

/**
 * The port every model adapter implements: one normalized call. Adapters classify failures as
 * {@link ModelException}; they never retry on their own unless told to by a routing policy.
 */
public interface ModelProvider {

  /** A short stable name for this provider, such as {@code openai} or {@code scripted}. */
  String name();

  /**
   * Sends {@code request} and returns the whole answer.
   *
   * @throws ModelException when the call fails; {@link ModelException#retryable()} says whether a
   *     retry may help
   */
  ModelResponse complete(ModelRequest request);

  /**
   * Sends {@code request} made for the run described by {@code context}. A routing provider
   * overrides this to report its decision and cost; the default is {@link #complete}.
   *
   * @throws ModelException when the call fails
   */
  default ModelCall completeFor(ModelRequest request, ModelCallContext context) {
    return new ModelCall(
        complete(request), dev.keel.json.JsonValue.EMPTY_OBJECT, java.util.OptionalLong.empty());
  }

  /**
   * The context window and tokenizer of the model a request for {@code model} may reach; the engine
   * fits each step's context pack to them. The default is {@link ModelLimits#DEFAULT}; a routing
   * provider reports the smallest window of the targets it may use.
   */
  default ModelLimits limits(String model) {
    return ModelLimits.DEFAULT;
  }
}
