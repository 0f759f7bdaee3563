package dev.keel.engine;

import dev.keel.run.ToolCallState;
import java.time.Instant;
import java.util.Optional;

/** What the loop decides to do next with a run; computed from its state alone. */
sealed interface Next {
  /** Record that a worker started the run. */
  record Start() implements Next {}

  /** The run has ended; nothing to do. */
  record Done() implements Next {}

  /**
   * Check the draft answer against the output contract and, when {@code reflectAttempt} is
   * positive, against the acceptance criteria (a model call reserved at {@code reservedMicros});
   * record it as the run's output once it passes.
   */
  record RecordOutput(
      String text, dev.keel.json.JsonValue.JsonObject data, int reflectAttempt, long reservedMicros)
      implements Next {}

  /** Record that the run completed. */
  record Complete() implements Next {}

  /** End the run at a limit. */
  record TimeOut(String limit, String detail) implements Next {}

  /** Release the run until a signal arrives or {@code readyAt}. */
  record Wait(String reason, Optional<Instant> readyAt) implements Next {}

  /** Expire approvals whose time has come. */
  record ExpireApprovals() implements Next {}

  /** Record a model request for {@code step} with its cost reservation. */
  record RequestModel(int step, long reservedMicros) implements Next {}

  /** Send the recorded model request. */
  record CallModel() implements Next {}

  /** Run a ready call. */
  record ExecuteTool(ToolCallState call) implements Next {}

  /** Settle a call whose intent is recorded but whose result is not. */
  record ResumeStarted(ToolCallState call) implements Next {}

  /**
   * Make sure every sub-agent run the run waits for exists, record those that ended, and otherwise
   * release the run until {@code readyAt} (it polls; a child's end is also found at once on the
   * next claim).
   */
  record AwaitSubruns(Instant readyAt) implements Next {}

  /** Ask a person about a call whose outcome is unknown. */
  record AskAboutUnknown(ToolCallState call) implements Next {}

  /** Ask a person to choose among the candidates a tool's result reported. */
  record AskAboutCandidates(ToolCallState call) implements Next {}
}
