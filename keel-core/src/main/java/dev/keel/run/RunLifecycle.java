package dev.keel.run;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The run state machine: which status may follow which. Every status change in the fold goes
 * through {@link #check}, so an illegal transition is a bug that fails loudly.
 */
public final class RunLifecycle {
  private static final Map<RunStatus, Set<RunStatus>> NEXT = new EnumMap<>(RunStatus.class);

  static {
    NEXT.put(
        RunStatus.QUEUED,
        EnumSet.of(
            RunStatus.RUNNING,
            RunStatus.PAUSED,
            RunStatus.CANCELLED,
            RunStatus.FAILED,
            RunStatus.TIMED_OUT));
    NEXT.put(
        RunStatus.RUNNING,
        EnumSet.of(
            RunStatus.WAITING,
            RunStatus.PAUSED,
            RunStatus.COMPLETED,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
            RunStatus.TIMED_OUT));
    NEXT.put(
        RunStatus.WAITING,
        EnumSet.of(
            RunStatus.RUNNING,
            RunStatus.PAUSED,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
            RunStatus.TIMED_OUT));
    NEXT.put(
        RunStatus.PAUSED,
        EnumSet.of(RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.TIMED_OUT));
    for (RunStatus terminal :
        EnumSet.of(
            RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT)) {
      NEXT.put(terminal, EnumSet.noneOf(RunStatus.class));
    }
  }

  private RunLifecycle() {}

  /** Whether {@code from} may change to {@code to}. A status may always stay as it is. */
  public static boolean allowed(RunStatus from, RunStatus to) {
    return from == to || NEXT.get(from).contains(to);
  }

  /** Returns {@code to}, or throws if the transition is illegal. */
  public static RunStatus check(RunStatus from, RunStatus to) {
    if (!allowed(from, to)) {
      throw new IllegalStateException("illegal run transition " + from.wire() + " -> " + to.wire());
    }
    return to;
  }

  /** The statuses that may follow {@code from}. */
  public static Set<RunStatus> next(RunStatus from) {
    return Set.copyOf(NEXT.get(from));
  }

  /** Renders the transition table as a Mermaid state diagram. */
  public static String mermaid() {
    StringBuilder out = new StringBuilder("stateDiagram-v2\n    [*] --> queued\n");
    for (RunStatus from : RunStatus.values()) {
      for (RunStatus to : RunStatus.values()) {
        if (NEXT.get(from).contains(to)) {
          out.append("    ").append(from.wire()).append(" --> ").append(to.wire()).append('\n');
        }
      }
      if (from.terminal()) {
        out.append("    ").append(from.wire()).append(" --> [*]\n");
      }
    }
    return out.toString();
  }
}
