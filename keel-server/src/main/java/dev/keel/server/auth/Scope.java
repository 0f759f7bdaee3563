package dev.keel.server.auth;

import java.util.Locale;

/** A permission a route needs; a key with explicit scopes holds only those (within its role). */
public enum Scope {
  /** Read runs, events, approvals, agents, tools, usage and metrics. */
  READ,
  /** Create, cancel, pause, resume and message runs. */
  RUNS_WRITE,
  /** Approve or deny approvals. */
  APPROVALS_DECIDE,
  /** Administration. */
  ADMIN;

  /** The wire name, such as {@code runs:write}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT).replace('_', ':');
  }

  /** Parses a wire name, naming the allowed values when it is unknown. */
  public static Scope fromWire(String wire) {
    for (Scope s : values()) {
      if (s.wire().equals(wire)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown scope '" + wire + "'; expected one of read, runs:write, approvals:decide, admin");
  }
}
