package dev.keel.tools;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Hashes;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.SignalPayload;
import dev.keel.tool.ToolInvocation;
import dev.keel.tools.schema.Violation;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Enforces what binds an approval, at both ends: when a person decides it ({@link #check}, called
 * by the HTTP layer before {@code RunStore.decide}) and when the engine is about to execute the
 * approved call ({@link #permitsExecution}).
 *
 * <p>Implementation notes: an approval binds tenant, run, call, tool, the SHA-256 of the exact
 * arguments, the approver and an expiry. {@link #check} refuses another tenant's approval (as 404,
 * so its existence does not leak), a role that may not approve, a decision for another approval id,
 * an approval already decided (replay), an expired one, a record whose stored hash does not match
 * its arguments, self-approval by whoever started the run (denying stays allowed), a level-4
 * approval without a reason, and edited arguments that fail the tool's input schema or tool that is
 * not registered. {@link #permitsExecution} is the second lock: it executes nothing unless the
 * record is approved, every binding matches the invocation, the decision came before the expiry,
 * and this grant has not been used before; each grant executes at most once per guard.
 */
public final class ApprovalGuard {
  private final ToolCatalog catalog;
  private final InstantSource clock;
  private final ToolAudit audit;
  private final Set<String> executed = ConcurrentHashMap.newKeySet();

  /** Creates a guard over {@code catalog}'s tools, on {@code clock}. */
  public ApprovalGuard(ToolCatalog catalog, InstantSource clock, ToolAudit audit) {
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.audit = Objects.requireNonNull(audit, "audit");
  }

  /**
   * Checks a person's decision of an approval.
   *
   * @param who the authenticated approver
   * @param stored the approval as the store returned it for {@code who.tenant()}, empty if none
   * @param decision the decision as submitted (approved or denied, maybe with edited arguments)
   * @param runStartedBy who started the run, who may not approve its calls; empty if unknown
   */
  public ApprovalCheck check(
      Approver who,
      Optional<ApprovalRecord> stored,
      SignalPayload.ApprovalDecision decision,
      Optional<String> runStartedBy) {
    ApprovalCheck result = evaluate(who, stored, decision, runStartedBy);
    audit.record(
        new ToolAuditEvent.ApprovalChecked(
            clock.instant(),
            who.tenant(),
            decision.approvalId(),
            stored.map(ApprovalRecord::tool).orElse(""),
            who.subject(),
            result instanceof ApprovalCheck.Accepted,
            result instanceof ApprovalCheck.Rejected r ? r.reason() : "accepted"));
    return result;
  }

  private ApprovalCheck evaluate(
      Approver who,
      Optional<ApprovalRecord> stored,
      SignalPayload.ApprovalDecision decision,
      Optional<String> runStartedBy) {
    if (stored.isEmpty() || !stored.get().tenant().equals(who.tenant())) {
      return new ApprovalCheck.Rejected(404, "approval " + decision.approvalId() + " not found");
    }
    ApprovalRecord a = stored.get();
    if (!a.approvalId().equals(decision.approvalId())) {
      return new ApprovalCheck.Rejected(
          400, "the decision names approval " + decision.approvalId() + ", not " + a.approvalId());
    }
    if (!who.role().mayApprove()) {
      return new ApprovalCheck.Rejected(
          403, "role " + who.role() + " may not decide approvals; an APPROVER or ADMIN must");
    }
    if (!decision.decidedBy().equals(who.subject())) {
      return new ApprovalCheck.Rejected(
          400, "decidedBy must be the authenticated approver " + who.subject());
    }
    if (!a.status().equals("pending")) {
      return new ApprovalCheck.Rejected(
          409,
          "approval " + a.approvalId() + " is already " + a.status() + "; it cannot be reused");
    }
    Instant now = clock.instant();
    if (!now.isBefore(a.expiresAt())) {
      return new ApprovalCheck.Rejected(
          410, "approval " + a.approvalId() + " expired at " + a.expiresAt());
    }
    if (!Hashes.of(a.arguments()).equals(a.argumentsHash())) {
      return new ApprovalCheck.Rejected(
          409, "approval " + a.approvalId() + " is corrupt: its arguments do not match its hash");
    }
    if (decision.decision().equals("expired")) {
      return new ApprovalCheck.Rejected(400, "only the store may mark an approval expired");
    }
    if (decision.decision().equals("denied")) {
      // Denying never causes an effect, so whoever started the run may always deny its calls.
      return accepted(a, decision, a.arguments(), a.argumentsHash());
    }
    if (runStartedBy.filter(who.subject()::equals).isPresent()) {
      return new ApprovalCheck.Rejected(
          403,
          "four-eyes: "
              + who.subject()
              + " started run "
              + a.runId()
              + " and may not approve its calls; another approver must (it may still deny)");
    }
    if (a.riskLevel() >= 4 && decision.comment().isBlank()) {
      return new ApprovalCheck.Rejected(
          422, "risk level 4: approving " + a.tool() + " needs a reason in comment");
    }
    Optional<GovernedTool> tool = catalog.find(a.tool());
    if (tool.isEmpty()) {
      return new ApprovalCheck.Rejected(409, "tool " + a.tool() + " is no longer registered");
    }
    JsonObject args = decision.arguments().orElse(a.arguments());
    List<Violation> violations = tool.get().validate(args);
    if (!violations.isEmpty()) {
      return new ApprovalCheck.Rejected(
          422,
          "edited arguments do not match the input schema of "
              + a.tool()
              + ": "
              + String.join("; ", violations.stream().map(Violation::render).toList()));
    }
    return accepted(a, decision, args, Hashes.of(args));
  }

  private static ApprovalCheck accepted(
      ApprovalRecord a, SignalPayload.ApprovalDecision d, JsonObject args, String hash) {
    return new ApprovalCheck.Accepted(
        d,
        new ApprovalCheck.Grant(
            a.approvalId(),
            a.tenant(),
            a.runId().toString(),
            a.callId(),
            a.tool(),
            args,
            hash,
            d.decidedBy(),
            a.expiresAt()));
  }

  /**
   * Whether the engine may execute {@code invocation} of {@code tool} on the strength of the
   * decided approval {@code decided} and the decision signal {@code decision} that the store
   * recorded. A true answer consumes the grant: the same approval never permits a second execution.
   */
  public boolean permitsExecution(
      ApprovalRecord decided,
      SignalPayload.ApprovalDecision decision,
      String tool,
      ToolInvocation invocation) {
    if (!decided.status().equals("approved") || !decision.decision().equals("approved")) {
      return false;
    }
    if (!decision.approvalId().equals(decided.approvalId())
        || !decided.tenant().equals(invocation.tenant())
        || !decided.runId().toString().equals(invocation.runId())
        || !Objects.equals(decided.callId(), invocation.callId())
        || !Objects.equals(decided.tool(), tool)) {
      return false;
    }
    if (decided.decidedBy().isEmpty()
        || !decided.decidedBy().get().equals(decision.decidedBy())
        || decided.decidedAt().isEmpty()
        || !decided.decidedAt().get().isBefore(decided.expiresAt())) {
      return false;
    }
    if (!Hashes.of(decided.arguments()).equals(decided.argumentsHash())) {
      return false;
    }
    String approvedHash = decision.arguments().map(Hashes::of).orElse(decided.argumentsHash());
    if (!Hashes.of(invocation.arguments()).equals(approvedHash)) {
      return false;
    }
    return executed.add(decided.tenant() + "/" + decided.approvalId());
  }
}
