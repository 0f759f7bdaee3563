package dev.keel.store;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.Objects;
import java.util.Optional;

/** Something from outside for a run, delivered through its durable inbox. */
public sealed interface SignalPayload {

  /** The wire kind, such as {@code cancel}. */
  String kind();

  /**
   * This payload with secrets masked by {@code r} in what a person typed: a cancel reason, a resume
   * input, a message, a plan, an approval's comment or an answer. Edited approval arguments stay as
   * sent: they are bound to the approval by their hash and are what the tool runs with.
   */
  default SignalPayload redacted(dev.keel.redact.Redaction r) {
    return switch (this) {
      case Cancel c -> new Cancel(r.redact(c.reason()), c.by());
      case Pause p -> p;
      case Resume x -> new Resume(r.redact(x.input()), x.by());
      case UserMessage m -> new UserMessage(r.redact(m.content()), m.by());
      case ApprovalDecision d ->
          new ApprovalDecision(
              d.approvalId(), d.decision(), d.decidedBy(), d.arguments(), r.redact(d.comment()));
      case PlanEdit e -> new PlanEdit((JsonObject) r.redactValues(e.plan()), e.by());
    };
  }

  /** Cancel the run. */
  record Cancel(String reason, String by) implements SignalPayload {
    @Override
    public String kind() {
      return "cancel";
    }
  }

  /** Pause the run at its next step boundary. */
  record Pause(String by) implements SignalPayload {
    @Override
    public String kind() {
      return "pause";
    }
  }

  /** Resume a paused or waiting run, optionally with an input. */
  record Resume(JsonValue input, String by) implements SignalPayload {
    /** Checks the input is present. */
    public Resume {
      Objects.requireNonNull(input, "input");
    }

    @Override
    public String kind() {
      return "resume";
    }
  }

  /** A new user message or changed instructions mid-run. */
  record UserMessage(String content, String by) implements SignalPayload {
    @Override
    public String kind() {
      return "message";
    }
  }

  /**
   * A decided approval ({@code approved}, {@code denied} or {@code expired}), recorded by the
   * store's conditional update of the approval, so each approval is decided exactly once.
   */
  record ApprovalDecision(
      String approvalId,
      String decision,
      String decidedBy,
      Optional<JsonObject> arguments,
      String comment)
      implements SignalPayload {
    /** Checks the decision is one of the three. */
    public ApprovalDecision {
      if (!decision.equals("approved")
          && !decision.equals("denied")
          && !decision.equals("expired")) {
        throw new IllegalArgumentException(
            "approval decision must be approved, denied or expired: " + decision);
      }
      Objects.requireNonNull(arguments, "arguments");
    }

    @Override
    public String kind() {
      return "approval";
    }
  }

  /** A person replaced the run's plan ({@code {steps:[{id,title,status,tool?}]}}). */
  record PlanEdit(JsonObject plan, String by) implements SignalPayload {
    /** Checks the plan is present. */
    public PlanEdit {
      Objects.requireNonNull(plan, "plan");
    }

    @Override
    public String kind() {
      return "plan";
    }
  }
}
