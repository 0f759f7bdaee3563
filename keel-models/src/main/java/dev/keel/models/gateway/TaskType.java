package dev.keel.models.gateway;

/** What a model call is for; routes match on it. */
public enum TaskType {
  /** Deciding the next steps of a run. */
  PLANNING,
  /** Picking a label. */
  CLASSIFICATION,
  /** Pulling fields out of text. */
  EXTRACTION,
  /** Shortening text. */
  SUMMARIZATION,
  /** Grading another answer. */
  JUDGING,
  /** Anything else. */
  GENERAL
}
