package dev.keel.server.auth;

import java.util.Locale;

/** What a key may do: admins everything, operators run and decide, viewers only read. */
public enum Role {
  /** Everything, including administration. */
  ADMIN,
  /** Create and steer runs, decide approvals, read. */
  OPERATOR,
  /** Read only. */
  VIEWER;

  /** The wire name, such as {@code operator}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether this role allows {@code scope} at all. */
  public boolean allows(Scope scope) {
    return switch (this) {
      case ADMIN -> true;
      case OPERATOR -> scope != Scope.ADMIN;
      case VIEWER -> scope == Scope.READ;
    };
  }

  /** Parses a wire name, naming the allowed values when it is unknown. */
  public static Role fromWire(String wire) {
    for (Role r : values()) {
      if (r.wire().equals(wire)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '" + wire + "'; expected one of admin, operator, viewer");
  }
}
