package dev.keel.models.gateway;

/** What a model can do; a call's needs are matched against a target's capabilities. */
public enum Capability {
  /** The model calls tools. */
  TOOL_CALLING,
  /** The model follows a JSON Schema for its answer. */
  STRUCTURED_OUTPUT,
  /** The model reads images. */
  VISION
}
