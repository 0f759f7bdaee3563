package dev.keel.server;

import dev.keel.server.auth.ApiKey;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.SignalPayload;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Checks a person's decision of an approval before the store records it. The deployment plugs in
 * its tool governance here (keel-app uses keel-tools' {@code ApprovalGuard}); the default refuses
 * only what the store would refuse anyway.
 */
@FunctionalInterface
public interface ApprovalReview {

  /** Lets every decision through to the store's own checks. */
  ApprovalReview NONE = (key, stored, decision) -> Optional.empty();

  /**
   * Empty to let the store decide; otherwise why the decision is refused.
   *
   * @param key the authenticated caller
   * @param stored the approval as the store returned it for the caller's tenant, empty if none
   * @param decision the decision as submitted
   */
  Optional<Refusal> review(
      ApiKey key, Optional<ApprovalRecord> stored, SignalPayload.ApprovalDecision decision);

  /**
   * A refused decision, answered as problem details.
   *
   * @param status the HTTP status
   * @param code the stable error code
   * @param detail what was wrong and what to do
   * @param errors JSON pointers into the request body, for invalid edited arguments
   */
  record Refusal(int status, String code, String detail, List<ApiException.FieldError> errors) {
    /** Checks every field is present and copies the errors. */
    public Refusal {
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(detail, "detail");
      errors = List.copyOf(errors);
    }

    ApiException toException() {
      return ApiException.refused(status, code, detail, errors);
    }
  }
}
