package dev.keel.tools;

/** When a tool's calls need a person's approval, on top of what its risk level demands. */
public enum ApprovalPolicy {
  /** By risk level: 0–2 run, 3 needs approval unless the agent waives it, 4 always needs it. */
  BY_RISK,
  /** Every call needs approval, whatever the risk level. */
  ALWAYS
}
