package dev.keel.tools;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Hashes;
import dev.keel.tool.PolicyVerdict;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolSpec;
import dev.keel.tools.schema.Violation;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The policy of one run: decides every proposed call before anything runs. Construct it through
 * {@link ToolCatalog#forRun}; one instance per run.
 *
 * <p>Implementation notes: the checks, in order, each a {@link PolicyVerdict.Deny} whose reason
 * goes back to the model:
 *
 * <ol>
 *   <li>the tenant is the run's tenant;
 *   <li>the tool is in the run's allowlist (registered and available to this tenant, tier, locale
 *       and flag set) and is the exact registered version;
 *   <li>the run holds every scope the tool requires;
 *   <li>the arguments match the input schema; the reason lists each violation with its JSON
 *       pointer. After {@code maxInvalidAttempts} invalid proposals of one tool the tool is refused
 *       for the rest of the run, so a confused model cannot loop forever;
 *   <li>by risk: 0–2 {@link PolicyVerdict.Allow}; 3 {@link PolicyVerdict.RequireApproval} unless
 *       the agent's policy waives it; 4 always approval (with a reason from the approver, checked
 *       by {@link ApprovalGuard}); a tool declaring {@link ApprovalPolicy#ALWAYS} always needs it.
 * </ol>
 *
 * Validation lives here because the engine reports a Deny's reason to the model as the call's
 * error, which is the normalized invalid-arguments error with pointers the contract asks for; and
 * the tool never starts, so nothing can execute with bad arguments. Proposal and verdict are
 * audited, arguments redacted.
 */
public final class RiskPolicy implements ToolPolicy {
  private final RunProfile profile;
  private final Map<String, GovernedTool> allowed;
  private final AgentToolPolicy agent;
  private final int maxInvalidAttempts;
  private final ToolAudit audit;
  private final Redactor redactor;
  private final InstantSource clock;
  private final ConcurrentMap<String, AtomicInteger> invalid = new ConcurrentHashMap<>();

  RiskPolicy(
      RunProfile profile,
      Map<String, GovernedTool> allowed,
      AgentToolPolicy agent,
      int maxInvalidAttempts,
      ToolRuntime runtime) {
    this.profile = Objects.requireNonNull(profile, "profile");
    this.allowed = Map.copyOf(allowed);
    this.agent = Objects.requireNonNull(agent, "agent");
    if (maxInvalidAttempts < 1) {
      throw new IllegalArgumentException(
          "maxInvalidAttempts must be >= 1, got " + maxInvalidAttempts);
    }
    this.maxInvalidAttempts = maxInvalidAttempts;
    this.audit = runtime.audit();
    this.redactor = runtime.redactor();
    this.clock = runtime.clock();
  }

  @Override
  public PolicyVerdict decide(String tenant, ToolSpec spec, JsonObject arguments) {
    audit.record(
        new ToolAuditEvent.CallProposed(
            clock.instant(),
            tenant,
            profile.runId(),
            spec.name(),
            redactor.redact(arguments),
            Hashes.of(arguments)));
    PolicyVerdict verdict = evaluate(tenant, spec, arguments);
    String kind =
        switch (verdict) {
          case PolicyVerdict.Allow a -> "allow";
          case PolicyVerdict.Deny d -> "deny";
          case PolicyVerdict.RequireApproval r -> "require_approval";
        };
    audit.record(
        new ToolAuditEvent.PolicyDecided(
            clock.instant(), tenant, profile.runId(), spec.name(), kind, reasonOf(verdict)));
    return verdict;
  }

  private static String reasonOf(PolicyVerdict v) {
    return switch (v) {
      case PolicyVerdict.Allow a -> a.reason();
      case PolicyVerdict.Deny d -> d.reason();
      case PolicyVerdict.RequireApproval r -> r.reason();
    };
  }

  /**
   * Counts one earlier proposal of {@code tool} with invalid arguments, recorded before this policy
   * was made (the run was reloaded), so the limit holds across reloads.
   */
  public void countEarlierInvalid(String tool) {
    invalid.computeIfAbsent(tool, n -> new AtomicInteger()).incrementAndGet();
  }

  /** Whether {@code reason} is this policy's denial of {@code tool} for invalid arguments. */
  public static boolean isInvalidArguments(String tool, String reason) {
    return reason.startsWith("invalid_arguments for " + tool + ": ");
  }

  private PolicyVerdict evaluate(String tenant, ToolSpec spec, JsonObject arguments) {
    if (!tenant.equals(profile.tenant())) {
      return new PolicyVerdict.Deny(
          "tool " + spec.name() + " denied: the call's tenant does not match the run's tenant");
    }
    GovernedTool tool = allowed.get(spec.name());
    if (tool == null) {
      return new PolicyVerdict.Deny(
          "tool "
              + spec.name()
              + " is not available in this run (not registered or not allowed). Available tools: "
              + String.join(", ", new TreeSet<>(allowed.keySet())));
    }
    ToolContract contract = tool.contract();
    if (!contract.spec().equals(spec)) {
      return new PolicyVerdict.Deny(
          "tool "
              + spec.name()
              + " denied: the proposed spec (version "
              + spec.version()
              + ") differs from the registered one (version "
              + contract.spec().version()
              + ")");
    }
    TreeSet<String> missing = new TreeSet<>(contract.requiredScopes());
    missing.removeAll(profile.scopes());
    if (!missing.isEmpty()) {
      return new PolicyVerdict.Deny(
          "tool " + spec.name() + " denied: the run lacks the scopes " + missing);
    }
    AtomicInteger failures = invalid.computeIfAbsent(spec.name(), n -> new AtomicInteger());
    if (failures.get() >= maxInvalidAttempts) {
      return new PolicyVerdict.Deny(
          "tool "
              + spec.name()
              + " is refused for the rest of this run after "
              + maxInvalidAttempts
              + " calls with invalid arguments; continue without it");
    }
    List<Violation> violations = tool.validate(arguments);
    if (!violations.isEmpty()) {
      int n = failures.incrementAndGet();
      return new PolicyVerdict.Deny(
          "invalid_arguments for "
              + spec.name()
              + ": "
              + String.join("; ", violations.stream().map(Violation::render).toList())
              + ". Fix the arguments at these JSON pointers and call again ("
              + (maxInvalidAttempts - n)
              + " tries left).");
    }
    int risk = spec.riskLevel();
    if (risk >= 4) {
      return new PolicyVerdict.RequireApproval(
          "risk level 4 (high-risk side effect): "
              + spec.name()
              + " always needs a person's approval with a reason");
    }
    if (contract.approval() == ApprovalPolicy.ALWAYS) {
      return new PolicyVerdict.RequireApproval(
          spec.name() + " declares that every call needs approval");
    }
    if (risk == 3) {
      if (agent.waives(spec.name())) {
        return new PolicyVerdict.Allow(
            "risk level 3 (external side effect) waived by the agent's policy");
      }
      return new PolicyVerdict.RequireApproval(
          "risk level 3 (external side effect): " + spec.name() + " needs a person's approval");
    }
    return new PolicyVerdict.Allow("risk level " + risk + " runs");
  }
}
