package dev.keel.run;

import dev.keel.json.JsonValue.JsonObject;
import java.util.Objects;
import java.util.Optional;

/**
 * The agent loop's part of a run's state: its plan, the draft answer waiting for its checks, and
 * the repair and reflection attempts used.
 *
 * @param plan the current plan
 * @param draftData the structured data of a draft answer ({@code keel.finish}), if any
 * @param draftCallId the call that proposed the draft, empty for a plain text answer
 * @param draftReflected whether the current draft passed its reflection check
 * @param repairs how many times invalid output was sent back for repair
 * @param reflections how many reflection checks were made
 */
public record LoopState(
    Plan plan,
    Optional<JsonObject> draftData,
    String draftCallId,
    boolean draftReflected,
    int repairs,
    int reflections) {
  /** A run's loop state before anything happened. */
  public static final LoopState INITIAL =
      new LoopState(Plan.NONE, Optional.empty(), "", false, 0, 0);

  /** Checks the fields are present. */
  public LoopState {
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(draftData, "draftData");
    Objects.requireNonNull(draftCallId, "draftCallId");
  }

  /** A copy with another plan. */
  public LoopState withPlan(Plan p) {
    return new LoopState(p, draftData, draftCallId, draftReflected, repairs, reflections);
  }

  /** A copy with a new draft, not yet checked. */
  public LoopState withDraft(Optional<JsonObject> data, String callId) {
    return new LoopState(plan, data, callId, false, repairs, reflections);
  }

  /** A copy with no draft. */
  public LoopState withoutDraft() {
    return new LoopState(plan, Optional.empty(), "", false, repairs, reflections);
  }

  /** A copy with one more repair and no draft. */
  public LoopState repaired() {
    return new LoopState(plan, Optional.empty(), "", false, repairs + 1, reflections);
  }

  /** A copy with one more reflection; a failed one drops the draft. */
  public LoopState reflected(boolean passed) {
    return passed
        ? new LoopState(plan, draftData, draftCallId, true, repairs, reflections + 1)
        : new LoopState(plan, Optional.empty(), "", false, repairs, reflections + 1);
  }
}
