package dev.keel.tools;

import java.util.Objects;

/**
 * The authenticated person deciding an approval, as the HTTP layer knows them.
 *
 * @param tenant their tenant
 * @param subject their stable identity
 * @param role their role in the tenant
 */
public record Approver(String tenant, String subject, Role role) {

  /** Roles, of which only {@link #APPROVER} and {@link #ADMIN} may decide approvals. */
  public enum Role {
    /** Reads only. */
    VIEWER,
    /** Starts and steers runs. */
    OPERATOR,
    /** Decides approvals. */
    APPROVER,
    /** Everything in the tenant. */
    ADMIN;

    /** Whether this role may decide approvals. */
    public boolean mayApprove() {
      return this == APPROVER || this == ADMIN;
    }
  }

  /** Checks every field is present and non-blank. */
  public Approver {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(role, "role");
    if (tenant.isBlank() || subject.isBlank()) {
      throw new IllegalArgumentException("approver.tenant and approver.subject must not be blank");
    }
  }
}
