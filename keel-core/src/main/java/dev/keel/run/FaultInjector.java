package dev.keel.run;

/**
 * Named fault points in production code, in the manner of FoundationDB's BUGGIFY and DBOS's debug
 * triggers. {@link #NONE} does nothing; tests install one that blocks, throws or lets a parent
 * process kill this one at the point.
 */
@FunctionalInterface
public interface FaultInjector {

  /** The injector of production code: no faults. */
  FaultInjector NONE = (point, runId) -> {};

  /** Called when {@code runId} passes {@code point}. */
  void at(CrashPoint point, RunId runId);
}
