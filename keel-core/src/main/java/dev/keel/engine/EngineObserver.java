package dev.keel.engine;

import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunState;
import java.util.List;
import java.util.Optional;

/**
 * Hears what an execution does, for traces, metrics and logs. Every method has an empty default;
 * calls happen on the execution's thread after the fact they describe, and an observer that throws
 * is ignored (the run's record never depends on it). Durations come from the engine's monotonic
 * ticker, so an observer places spans on its own wall clock.
 */
public interface EngineObserver {
  /** Observes nothing. */
  EngineObserver NONE = new EngineObserver() {};

  /**
   * A worker claimed the run and loaded it; one per execution.
   *
   * @param workerId the worker that holds the lease
   * @param epoch the lease epoch
   */
  default void executionStarted(RunState state, String workerId, long epoch) {}

  /**
   * How long the run waited for this execution: from the moment it became claimable (created,
   * resumed, an approval or answer decided, woken by a sub-run or a timer, handed back, or its
   * previous lease lapsed) to the claim, both by the store's clock. Heard just before {@link
   * #executionStarted}, once per claimed execution.
   *
   * @param waited the queue delay, never negative
   */
  default void executionQueued(RunState state, java.time.Duration waited) {}

  /**
   * The execution let go of the run.
   *
   * @param how {@code released} (waiting, drained), {@code ended} (terminal status), {@code lost}
   *     (another worker took it over) or {@code failed} (an unexpected error)
   */
  default void executionEnded(RunState state, String how) {}

  /** A model call finished, answered or failed after its last attempt. */
  default void modelCalled(RunState state, ModelCall call) {}

  /** A tool call returned (or threw); {@code call.result()} is the event that records it. */
  default void toolInvoked(RunState state, ToolCall call) {}

  /** A checkpoint was written in {@code nanos}. */
  default void checkpointWritten(RunState state, int step, long nanos) {}

  /** A batch of events was committed in {@code nanos}. */
  default void committed(RunState state, List<EventEnvelope> events, long nanos) {}

  /**
   * One model call.
   *
   * @param step the run step
   * @param model the model the agent asked for
   * @param request what was sent
   * @param response the answer, empty if the call failed
   * @param error the failure message, empty if answered
   * @param costMicros what it cost
   * @param attempts how many tries it took
   * @param nanos how long it took, retries included
   */
  record ModelCall(
      int step,
      String model,
      ModelRequest request,
      Optional<ModelResponse> response,
      Optional<String> error,
      long costMicros,
      int attempts,
      long nanos) {}

  /**
   * One tool call.
   *
   * @param callId the call
   * @param tool the tool's name
   * @param attempt the attempt number
   * @param result the recorded outcome ({@code ToolCallSucceeded} or {@code ToolCallFailed})
   * @param nanos how long the tool took
   */
  record ToolCall(String callId, String tool, int attempt, RunEvent result, long nanos) {}
}
