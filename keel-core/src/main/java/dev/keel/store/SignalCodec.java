package dev.keel.store;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;

/** The stored JSON of signal payloads, shared by every store. */
public final class SignalCodec {
  private SignalCodec() {}

  /** The canonical JSON of {@code p}. */
  public static String encode(SignalPayload p) {
    JsonObject o =
        switch (p) {
          case SignalPayload.Cancel c -> JsonValue.object("reason", c.reason(), "by", c.by());
          case SignalPayload.Pause c -> JsonValue.object("by", c.by());
          case SignalPayload.Resume r -> JsonValue.object("input", r.input(), "by", r.by());
          case SignalPayload.UserMessage m ->
              JsonValue.object("content", m.content(), "by", m.by());
          case SignalPayload.ApprovalDecision d -> {
            JsonObject base =
                JsonValue.object(
                    "approval_id", d.approvalId(),
                    "decision", d.decision(),
                    "decided_by", d.decidedBy(),
                    "comment", d.comment());
            yield d.arguments().map(a -> base.with("arguments", a)).orElse(base);
          }
          case SignalPayload.PlanEdit e -> JsonValue.object("plan", e.plan(), "by", e.by());
        };
    return o.toString();
  }

  /** Reads a stored payload of {@code kind}. */
  public static SignalPayload decode(String kind, String json) {
    JsonObject o = (JsonObject) JsonParser.parse(json);
    return switch (kind) {
      case "cancel" ->
          new SignalPayload.Cancel(o.string("reason").orElse(""), o.string("by").orElse(""));
      case "pause" -> new SignalPayload.Pause(o.string("by").orElse(""));
      case "resume" ->
          new SignalPayload.Resume(
              o.get("input").orElse(JsonValue.NULL), o.string("by").orElse(""));
      case "message" ->
          new SignalPayload.UserMessage(o.string("content").orElse(""), o.string("by").orElse(""));
      case "approval" ->
          new SignalPayload.ApprovalDecision(
              o.string("approval_id").orElseThrow(),
              o.string("decision").orElseThrow(),
              o.string("decided_by").orElse(""),
              o.get("arguments").filter(JsonObject.class::isInstance).map(JsonObject.class::cast),
              o.string("comment").orElse(""));
      case "plan" ->
          new SignalPayload.PlanEdit(
              o.get("plan")
                  .filter(JsonObject.class::isInstance)
                  .map(JsonObject.class::cast)
                  .orElse(JsonValue.EMPTY_OBJECT),
              o.string("by").orElse(""));
      default -> throw new IllegalArgumentException("unknown signal kind '" + kind + "'");
    };
  }
}
