package dev.keel.tools;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.store.SignalPayload;
import java.time.Instant;
import java.util.Objects;

/** What {@link ApprovalGuard} concluded about a person's attempt to decide an approval. */
public sealed interface ApprovalCheck {

  /**
   * The decision may go to {@code RunStore.decide}.
   *
   * @param decision the decision to pass on, with {@code decidedBy} set to the approver
   * @param grant for an approval, what it binds (empty arguments hash for a denial)
   */
  record Accepted(SignalPayload.ApprovalDecision decision, Grant grant) implements ApprovalCheck {
    /** Checks every field is present. */
    public Accepted {
      Objects.requireNonNull(decision, "decision");
      Objects.requireNonNull(grant, "grant");
    }
  }

  /**
   * The attempt is refused; nothing may be decided or executed.
   *
   * @param status the HTTP status to answer with (404 hides another tenant's approval)
   * @param reason what was wrong and what to do
   */
  record Rejected(int status, String reason) implements ApprovalCheck {
    /** Checks the reason is present. */
    public Rejected {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * What an accepted approval binds: exactly this tenant, run, call, tool and arguments, decided by
   * this approver, valid until the approval's expiry.
   *
   * @param approvalId the approval
   * @param tenant the tenant
   * @param runId the run
   * @param callId the call
   * @param tool the tool
   * @param arguments the arguments that may run (the approver's edit, if any)
   * @param argumentsHash SHA-256 of their canonical form
   * @param approver who decided
   * @param expiresAt the approval's expiry
   */
  record Grant(
      String approvalId,
      String tenant,
      String runId,
      String callId,
      String tool,
      JsonObject arguments,
      String argumentsHash,
      String approver,
      Instant expiresAt) {}
}
