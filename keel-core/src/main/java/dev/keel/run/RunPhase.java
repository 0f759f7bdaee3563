package dev.keel.run;

import java.util.Locale;

/** What a run is doing within its status; {@link #NONE} is the API's null. */
public enum RunPhase {
  /** Nothing in particular (the API shows null). */
  NONE,
  /** Deciding what to do next. */
  PLANNING,
  /** A model call is in flight. */
  WAITING_FOR_MODEL,
  /** A tool call is in flight. */
  RUNNING_TOOL,
  /** Waiting on a long external tool. */
  WAITING_FOR_TOOL,
  /** Waiting on a person. */
  WAITING_FOR_HUMAN,
  /** Writing a checkpoint. */
  CHECKPOINTING;

  /** The wire name, or null for {@link #NONE}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
