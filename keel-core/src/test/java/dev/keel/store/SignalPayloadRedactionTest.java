package dev.keel.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.redact.Redaction;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a person typed into a signal is masked before it is stored or recorded (SC-01). */
class SignalPayloadRedactionTest {
  static final String KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6" + "T3BlbkFJ";
  final Redaction r = Redaction.secrets();

  @Test
  void everyTypedFieldIsMasked() {
    List<SignalPayload> all =
        List.of(
            new SignalPayload.Cancel("leaked " + KEY, "key_a"),
            new SignalPayload.Resume(JsonValue.object("text", "use " + KEY), "key_a"),
            new SignalPayload.Resume(JsonValue.of(KEY), "key_a"),
            new SignalPayload.UserMessage("here: " + KEY, "key_a"),
            new SignalPayload.ApprovalDecision(
                "apr_1", "denied", "key_b", Optional.empty(), "no, " + KEY + " is prod"),
            new SignalPayload.PlanEdit(
                JsonValue.object(
                    "steps",
                    List.of(
                        JsonValue.object("id", "s1", "title", "rotate " + KEY, "status", "todo"))),
                "key_a"));
    for (SignalPayload p : all) {
      String before = SignalCodec.encode(p);
      String after = SignalCodec.encode(p.redacted(r));
      assertThat(before).as(p.kind()).contains(KEY);
      assertThat(after).as(p.kind()).doesNotContain(KEY).contains("[REDACTED]");
    }
  }

  @Test
  void editedApprovalArgumentsAndWhoActedStayAsSent() {
    SignalPayload.ApprovalDecision d =
        new SignalPayload.ApprovalDecision(
            "apr_1", "approved", "key_b", Optional.of(JsonValue.object("token", KEY)), "fine");
    assertThat(d.redacted(r)).isEqualTo(d);
    SignalPayload.Pause p = new SignalPayload.Pause("key_a");
    assertThat(p.redacted(r)).isEqualTo(p);
  }
}
