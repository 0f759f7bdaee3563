package dev.keel.tool;

/**
 * What Keel does with a call of a non-idempotent tool that may or may not have happened (the worker
 * died between recording the intent and recording the result).
 */
public enum UnknownOutcomePolicy {
  /** Ask a person whether it happened; the run waits. */
  ASK_PERSON,
  /** Run the tool's named compensation, then treat the call as failed. */
  COMPENSATE,
  /** Fail the run with the call named. */
  FAIL
}
