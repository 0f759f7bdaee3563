package dev.keel.tool;

import dev.keel.json.JsonValue.JsonObject;

/** Decides every proposed tool call before anything runs. */
public interface ToolPolicy {

  /** Decides a call of {@code spec} with {@code arguments} in a run of {@code tenant}. */
  PolicyVerdict decide(String tenant, ToolSpec spec, JsonObject arguments);

  /** The default policy by risk level: 0–2 run, 3 needs approval, 4 always needs approval. */
  static ToolPolicy byRiskLevel() {
    return (tenant, spec, arguments) ->
        switch (spec.riskLevel()) {
          case 0, 1, 2 -> new PolicyVerdict.Allow("risk level " + spec.riskLevel() + " runs");
          case 3 -> new PolicyVerdict.RequireApproval("risk level 3: external side effect");
          default -> new PolicyVerdict.RequireApproval("risk level 4: high-risk side effect");
        };
  }
}
