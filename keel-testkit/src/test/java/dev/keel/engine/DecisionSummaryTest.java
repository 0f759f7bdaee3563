package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.testkit.ScriptedModel;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every model step's {@code decision.recorded} event carries a short structured summary: the
 * selected action, the context it was made from, and the policy checks it passed — budget limits
 * with what is used, and the tool allow-list — with the per-call verdict in {@code tool.proposed}.
 */
class DecisionSummaryTest {
  static final Budget BUDGET = new Budget(10, 10, 10, 1_000_000, Duration.ofMinutes(5));

  @Test
  void eachModelStepRecordsItsActionContextAndChecks() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(
                ScriptedModel.steps(
                    calls(
                        call("c1", "shop.lookup", JsonValue.object("sku", "A1")),
                        call("c2", "shop.nuke", JsonValue.object())),
                    text("done"))),
            BUDGET,
            FaultInjector.NONE);
    RunId id = h.start("find A1");
    h.runUntilIdle();
    List<EventEnvelope> events = h.store.events(id, 0, 1000);
    List<RunEvent.DecisionRecorded> steps =
        events.stream()
            .map(EventEnvelope::event)
            .filter(RunEvent.DecisionRecorded.class::isInstance)
            .map(RunEvent.DecisionRecorded.class::cast)
            .filter(d -> d.summary().get("checks").isPresent())
            .toList();
    assertThat(steps).hasSize(2);

    RunEvent.DecisionRecorded first = steps.getFirst();
    assertThat(first.action()).isEqualTo("call_tools");
    JsonObject s = first.summary();
    assertThat(s.get("tools").orElseThrow().toString()).contains("shop.lookup", "shop.nuke");
    JsonObject context = (JsonObject) s.get("context").orElseThrow();
    assertThat(context.get("messages")).isPresent();
    assertThat(context.string("chain")).isPresent();
    List<JsonValue> checks = ((JsonValue.JsonArray) s.get("checks").orElseThrow()).items();
    assertThat(checks)
        .extracting(c -> ((JsonObject) c).string("check").orElseThrow())
        .containsExactly(
            "max_steps", "max_model_calls", "max_cost_micros", "max_duration_s", "tool_allowlist");
    JsonObject calls = (JsonObject) checks.get(1);
    assertThat(calls.get("used")).contains(JsonValue.of(1));
    assertThat(calls.get("limit")).contains(JsonValue.of(10));
    assertThat(calls.get("passed")).contains(JsonValue.of(true));
    JsonObject allow = (JsonObject) checks.get(4);
    assertThat(allow.get("passed")).contains(JsonValue.of(false));
    assertThat(allow.get("allowed").orElseThrow().toString()).contains("shop.lookup");
    assertThat(allow.get("refused").orElseThrow().toString()).contains("shop.nuke");
    // the per-call policy verdicts follow the decision
    assertThat(
            events.stream()
                .map(EventEnvelope::event)
                .filter(RunEvent.ToolCallProposed.class::isInstance)
                .map(e -> ((RunEvent.ToolCallProposed) e).verdict())
                .toList())
        .containsExactly("allow", "deny");

    JsonObject second = steps.get(1).summary();
    List<JsonValue> checks2 = ((JsonValue.JsonArray) second.get("checks").orElseThrow()).items();
    // no tool requested: no allow-list check; two model calls used by now
    assertThat(checks2).hasSize(4);
    assertThat(((JsonObject) checks2.get(1)).get("used")).contains(JsonValue.of(2));
    assertThat(steps.get(1).action()).doesNotContain("call_tools");
    // nothing like hidden reasoning: the summary has exactly these keys
    assertThat(second.members().keySet())
        .containsExactlyInAnyOrder("tools", "decisions", "context", "cost_micros", "checks");
  }
}
