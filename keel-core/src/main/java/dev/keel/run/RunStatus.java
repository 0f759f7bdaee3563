package dev.keel.run;

import java.util.Locale;

/** The status of a run, as the API names it. */
public enum RunStatus {
  /** Created, not yet started by a worker. */
  QUEUED,
  /** A worker is advancing it. */
  RUNNING,
  /** It needs something from outside: an approval, an answer, a long external tool. */
  WAITING,
  /** A person paused it. */
  PAUSED,
  /** It finished with an output. */
  COMPLETED,
  /** It failed with an error. */
  FAILED,
  /** A person cancelled it. */
  CANCELLED,
  /** A deadline or budget ended it. */
  TIMED_OUT;

  /** Whether the run has ended for good. */
  public boolean terminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED || this == TIMED_OUT;
  }

  /** The wire name, such as {@code timed_out}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a wire name, naming the allowed values when it is unknown. */
  public static RunStatus fromWire(String wire) {
    for (RunStatus s : values()) {
      if (s.wire().equals(wire)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown run status '"
            + wire
            + "'; expected one of queued, running, waiting, paused,"
            + " completed, failed, cancelled, timed_out");
  }
}
