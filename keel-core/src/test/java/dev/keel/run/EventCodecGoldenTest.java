package dev.keel.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.tool.UnknownOutcomePolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Wire tests of the stored event shape. {@code golden/events-v1.jsonl} holds one event of every
 * type as version 1 wrote it; it must keep reading as long as Keel reads stores. A new event type
 * must be added to {@link #everyType()} (the sealed switch in the codec makes that impossible to
 * forget) and its line appended to the golden file.
 */
class EventCodecGoldenTest {
  static final Path GOLDEN = Path.of("src", "test", "resources", "golden", "events-v1.jsonl");

  static List<RunEvent> everyType() {
    JsonObject args = JsonValue.object("order", "A-1", "usd", 12L);
    return List.of(
        new RunEvent.RunCreated(
            "acme",
            "support",
            "3",
            JsonValue.object("goal", "refund A-1"),
            new Budget(50, 20, 40, 500_000, Duration.ofSeconds(600)),
            "api",
            Optional.of("thr_1"),
            Optional.empty(),
            JsonValue.object("source", "test")),
        new RunEvent.RunStarted(),
        new RunEvent.ModelRequested(1, "gpt-x", 4_200),
        new RunEvent.ModelResponded(
            1,
            new ModelResponse(
                "gpt-x",
                "",
                List.of(new ToolCallRequest("c1", "crm.refund", args)),
                new TokenUsage(120, 30, 20, 5),
                FinishReason.TOOL_CALLS),
            390),
        new RunEvent.DecisionRecorded(
            1, "call_tools", JsonValue.object("tools", List.of("crm.refund"))),
        new RunEvent.ToolCallProposed(
            1, "call_1_0", "crm.refund", "2", args, "approval", "risk level 3"),
        new RunEvent.ApprovalRequested(
            "apr_1",
            "tool_call",
            "call_1_0",
            "crm.refund",
            args,
            Hashes.of(args),
            3,
            "risk level 3",
            Instant.parse("2026-01-08T00:00:00Z")),
        new RunEvent.ApprovalResolved("apr_1", "approved", "bob", Optional.of(args), "ok", 1),
        new RunEvent.ToolCallStarted("call_1_0", "crm.refund", "keel:run_1:call_1_0", 1, 2),
        new RunEvent.ToolCallSucceeded("call_1_0", JsonValue.object("refund_id", "r-9")),
        new RunEvent.ToolCallFailed("call_1_1", "timeout", true, "no answer in 30 s"),
        new RunEvent.ToolOutcomeUnknown("call_1_2", UnknownOutcomePolicy.COMPENSATE, "crm.void"),
        new RunEvent.CheckpointSaved(2, 14, "ab".repeat(32)),
        new RunEvent.BudgetExceeded("max_steps", "the run reached its limit of 50 steps"),
        new RunEvent.RunWaiting("approval"),
        new RunEvent.RunPaused(2),
        new RunEvent.RunResumed(JsonValue.of("go on"), 3),
        new RunEvent.MessageReceived("also check B-2", 4),
        new RunEvent.OutputRecorded(
            JsonValue.object("text", "refunded", "data", JsonValue.EMPTY_OBJECT)),
        new RunEvent.RunCompleted(),
        new RunEvent.RunFailed("model_error", "OVERLOADED: 529"),
        new RunEvent.RunCancelled("not needed", 5),
        new RunEvent.RunTimedOut("max_steps", "the run reached its limit of 50 steps"));
  }

  private static String line(RunEvent e) {
    return JsonValue.object("type", e.type(), "data", EventCodec.toJson(e)).toString();
  }

  @Test
  void everyEventTypeMatchesItsGoldenLine() throws Exception {
    List<String> rendered = new ArrayList<>();
    for (RunEvent e : everyType()) {
      rendered.add(line(e));
    }
    if (!Files.exists(GOLDEN)) {
      Files.createDirectories(GOLDEN.getParent());
      Files.write(GOLDEN, rendered);
      throw new AssertionError("wrote " + GOLDEN + "; review and commit it");
    }
    assertThat(Files.readAllLines(GOLDEN)).containsExactlyElementsOf(rendered);
  }

  @Test
  void goldenLinesReadBackToEqualEvents() throws Exception {
    List<RunEvent> expected = everyType();
    List<String> lines = Files.readAllLines(GOLDEN);
    for (int i = 0; i < lines.size(); i++) {
      JsonObject o = (JsonObject) JsonParser.parse(lines.get(i));
      RunEvent read =
          EventCodec.decode(o.string("type").orElseThrow(), o.get("data").orElseThrow());
      assertThat(read).isEqualTo(expected.get(i));
    }
  }

  @Test
  void unknownFieldsAreIgnoredAndAbsentOptionalFieldsReadAsAbsent() {
    RunEvent e =
        EventCodec.decode(
            "tool.proposed",
            "{\"step\":1,\"call_id\":\"call_1_0\",\"tool\":\"x.y\",\"arguments\":{},\"verdict\":\"allow\",\"added_in_v9\":[1,2]}");
    assertThat(e)
        .isEqualTo(
            new RunEvent.ToolCallProposed(
                1, "call_1_0", "x.y", "", JsonValue.EMPTY_OBJECT, "allow", ""));
    RunEvent r =
        EventCodec.decode("approval.resolved", "{\"approval_id\":\"a\",\"decision\":\"expired\"}");
    assertThat(((RunEvent.ApprovalResolved) r).arguments()).isEmpty();
  }

  @Test
  void malformedPayloadsNameTheFieldAndTheType() {
    assertThatThrownBy(
            () ->
                EventCodec.decode(
                    "tool.started", "{\"call_id\":\"c\",\"tool\":\"t\",\"attempt\":1}"))
        .hasMessage("event tool.started: missing field 'idempotency_key'");
    assertThatThrownBy(
            () -> EventCodec.decode("model.requested", "{\"step\":\"one\",\"model\":\"m\"}"))
        .hasMessage("event model.requested: field 'step' must be a number");
    assertThatThrownBy(() -> EventCodec.decode("run.exploded", "{}"))
        .hasMessage("unknown event type 'run.exploded'");
  }

  @Test
  void checkpointStateRoundTripsThroughItsCodec() {
    RunId id = RunId.of("run_golden");
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    List<EventEnvelope> log = new ArrayList<>();
    long seq = 0;
    for (RunEvent e : everyType().subList(0, 10)) {
      log.add(new EventEnvelope(id, ++seq, t.plusSeconds(seq), seq == 1 ? 0 : 2, e));
    }
    RunState s = RunState.fold(log);
    RunState back = StateCodec.fromJson(StateCodec.toJson(s).toString());
    assertThat(back).isEqualTo(s);
    assertThat(StateCodec.toJson(back)).isEqualTo(StateCodec.toJson(s));
  }

  @Test
  void theCreatorOfARunRoundTripsThroughTheEventAndTheCheckpoint() {
    RunEvent.RunCreated plain = (RunEvent.RunCreated) everyType().getFirst();
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            plain.tenant(),
            plain.agentName(),
            plain.agentVersion(),
            plain.input(),
            plain.budget(),
            plain.channel(),
            plain.threadId(),
            plain.parentRunId(),
            plain.metadata(),
            plain.fork(),
            plain.versions(),
            java.util.Optional.of("key_alice"));
    assertThat(EventCodec.toJson(created).string("created_by")).contains("key_alice");
    assertThat(EventCodec.toJson(plain).get("created_by")).isEmpty();
    assertThat(EventCodec.decode("run.created", EventCodec.toJson(created))).isEqualTo(created);
    RunState s =
        RunState.fold(
            List.of(
                new EventEnvelope(
                    RunId.of("run_c"), 1, Instant.parse("2026-01-01T00:00:00Z"), 0, created)));
    assertThat(s.header().createdBy()).contains("key_alice");
    assertThat(StateCodec.fromJson(StateCodec.toJson(s).toString()).header().createdBy())
        .contains("key_alice");
  }
}
