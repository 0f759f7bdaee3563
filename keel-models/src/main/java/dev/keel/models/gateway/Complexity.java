package dev.keel.models.gateway;

/** How hard a call is, as its caller estimates it; routes match on it. */
public enum Complexity {
  /** Short, well-defined work a small model handles. */
  LOW,
  /** Ordinary work. */
  MEDIUM,
  /** Long or subtle work that wants the strongest model. */
  HIGH
}
