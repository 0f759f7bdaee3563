package dev.keel.store;

import dev.keel.run.RunId;

/**
 * The store refused a write because the writer's lease is no longer current: another worker took
 * the run over, or the lease expired. The writer must stop before starting any new side effect.
 */
public final class LeaseLostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception for {@code runId}. */
  public LeaseLostException(RunId runId, long epoch, String why) {
    super("lease of " + runId + " at epoch " + epoch + " is lost: " + why);
  }
}
