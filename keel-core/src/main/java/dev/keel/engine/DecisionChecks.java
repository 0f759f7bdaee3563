package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.Budget;
import dev.keel.run.RunState;
import java.util.ArrayList;
import java.util.List;

/**
 * The policy checks a model step's decision went through before it was recorded, as a short
 * structured list for its {@code decision.recorded} summary: the run's budget limits the model call
 * was admitted under (steps, model calls, cost reservation, wall clock; with what is used and the
 * limit), and whether each requested tool is on the agent's allow-list. The per-call tool policy
 * verdict (allow, approval, deny and its reason) follows as each call's {@code tool.proposed}
 * event. Never any reasoning text.
 */
final class DecisionChecks {
  private DecisionChecks() {}

  /**
   * The checks of the step whose model call has just been recorded in {@code state}.
   *
   * @param calls the tool calls the model asked for (pseudo-tools such as {@code keel.finish}
   *     included; they are checked by the decision loop, not the allow-list)
   */
  static List<JsonValue> of(RunState state, AgentSpec agent, List<ToolCallRequest> calls) {
    Budget b = state.header().budget();
    List<JsonValue> out = new ArrayList<>();
    out.add(limit("max_steps", state.step(), b.maxSteps()));
    out.add(limit("max_model_calls", state.usage().modelCalls(), b.maxModelCalls()));
    out.add(limit("max_cost_micros", state.usage().costMicros(), b.maxCostMicros()));
    out.add(
        JsonValue.object(
            "check",
            "max_duration_s",
            "passed",
            true,
            "deadline",
            state.header().createdAt().plus(b.maxDuration()).toString()));
    List<String> allowed = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    for (ToolCallRequest c : calls) {
      if (c.name().startsWith("keel.")) {
        continue;
      }
      (agent.tools().contains(c.name()) ? allowed : refused).add(c.name());
    }
    if (!allowed.isEmpty() || !refused.isEmpty()) {
      out.add(
          JsonValue.object(
              "check",
              "tool_allowlist",
              "passed",
              refused.isEmpty(),
              "allowed",
              allowed,
              "refused",
              refused));
    }
    return out;
  }

  private static JsonObject limit(String name, long used, long limit) {
    return JsonValue.object("check", name, "passed", used <= limit, "used", used, "limit", limit);
  }
}
