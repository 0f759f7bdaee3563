package dev.keel.store;

import dev.keel.run.RunId;
import dev.keel.run.RunState;
import java.util.Objects;

/**
 * A cached fold of a run's log.
 *
 * @param runId the run
 * @param step the step it was taken at
 * @param throughSeq the last event it covers
 * @param state the fold of events 1..throughSeq
 * @param stateHash SHA-256 of the state's canonical JSON
 * @param previousHash the previous checkpoint's hash ({@link dev.keel.run.Hashes#GENESIS} first)
 * @param hash {@link dev.keel.run.Hashes#checkpoint} of the previous hash, the event chain hash at
 *     {@code throughSeq} and {@code stateHash}
 */
public record Checkpoint(
    RunId runId,
    int step,
    long throughSeq,
    RunState state,
    String stateHash,
    String previousHash,
    String hash) {
  /** Checks the fields. */
  public Checkpoint {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(stateHash, "stateHash");
    Objects.requireNonNull(previousHash, "previousHash");
    Objects.requireNonNull(hash, "hash");
    if (state.lastSeq() != throughSeq) {
      throw new IllegalArgumentException(
          "checkpoint state is at seq " + state.lastSeq() + ", not " + throughSeq);
    }
  }
}
