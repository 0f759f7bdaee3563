package dev.keel.tool;

import java.util.Objects;

/** What the policy decided about one proposed tool call. */
public sealed interface PolicyVerdict {

  /** The call may run. */
  record Allow(String reason) implements PolicyVerdict {
    /** Checks the reason is present. */
    public Allow {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** The call is refused; the model sees the reason. */
  record Deny(String reason) implements PolicyVerdict {
    /** Checks the reason is present. */
    public Deny {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** A person must approve the exact arguments first. */
  record RequireApproval(String reason) implements PolicyVerdict {
    /** Checks the reason is present. */
    public RequireApproval {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
