package dev.keel.server;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.EventCodec;
import dev.keel.run.EventEnvelope;
import dev.keel.run.PendingApproval;
import dev.keel.run.RunState;
import dev.keel.run.Usage;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Checkpoint;
import dev.keel.store.RunRow;
import dev.keel.tool.ToolSpec;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The public JSON shapes of the API's resources (see the contract in {@code api.md}). */
public final class Wire {
  private Wire() {}

  /** A run as the API shows it; {@code row} gives the update time. */
  public static JsonObject run(RunState s, Optional<RunRow> row) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.runId().value());
    m.put("thread_id", s.header().threadId().orElse(null));
    m.put("parent_run_id", s.header().parentRunId().orElse(null));
    m.put(
        "agent",
        JsonValue.object("name", s.header().agentName(), "version", s.header().agentVersion()));
    m.put("status", s.status().wire());
    m.put("phase", s.phase() == dev.keel.run.RunPhase.NONE ? null : s.phase().wire());
    m.put("step", (long) s.step());
    m.put("input", s.header().input());
    m.put("output", s.output().orElse(null));
    m.put(
        "error",
        s.error()
            .map(e -> (Object) JsonValue.object("code", e.code(), "message", e.message()))
            .orElse(null));
    m.put(
        "pending_approvals",
        s.approvals().stream().map(PendingApproval::approvalId).map(JsonValue::of).toList());
    m.put("usage", usage(s.usage()));
    m.put("budget", EventCodec.budget(s.header().budget()));
    m.put(
        "versions",
        s.header().versions().members().isEmpty()
            ? JsonValue.object("agent", s.header().agentVersion())
            : s.header().versions());
    m.put("channel", s.header().channel());
    m.put("plan", s.loop().plan().steps().isEmpty() ? null : s.loop().plan().toJson());
    m.put("metadata", s.header().metadata());
    m.put("created_by", s.header().createdBy().orElse(null));
    m.put("last_event_sequence", s.lastSeq());
    m.put("created_at", s.header().createdAt().toString());
    Instant updated = row.map(RunRow::updatedAt).orElse(s.header().createdAt());
    m.put("updated_at", updated.toString());
    m.put("completed_at", s.status().terminal() ? updated.toString() : null);
    return (JsonObject) JsonValue.from(m);
  }

  /** Usage in the API's units. */
  public static JsonObject usage(Usage u) {
    return JsonValue.object(
        "model_calls", (long) u.modelCalls(),
        "tool_calls", (long) u.toolCalls(),
        "input_tokens", u.inputTokens(),
        "output_tokens", u.outputTokens(),
        "cost_usd", usd(u.costMicros()));
  }

  /** Micro-dollars as a dollar amount. */
  public static BigDecimal usd(long micros) {
    return BigDecimal.valueOf(micros, 6);
  }

  /** One event of a run's log. */
  public static JsonObject event(EventEnvelope e) {
    return JsonValue.object(
        "sequence", e.seq(),
        "run_id", e.runId().value(),
        "type", e.event().type(),
        "created_at", e.at().toString(),
        "data", EventCodec.toJson(e.event()));
  }

  /** An approval. */
  public static JsonObject approval(ApprovalRecord a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", a.approvalId());
    m.put("run_id", a.runId().value());
    m.put("kind", a.kind());
    m.put("call_id", a.callId());
    m.put("tool", a.tool());
    m.put("arguments", a.arguments());
    m.put("risk_level", (long) a.riskLevel());
    m.put("reason", a.reason());
    m.put("status", a.status());
    m.put("decided_by", a.decidedBy().orElse(null));
    m.put("decided_at", a.decidedAt().map(Instant::toString).orElse(null));
    m.put("expires_at", a.expiresAt().toString());
    m.put("created_at", a.createdAt().toString());
    return (JsonObject) JsonValue.from(m);
  }

  /** A checkpoint, without its cached state. */
  public static JsonObject checkpoint(Checkpoint c) {
    return JsonValue.object(
        "run_id", c.runId().value(),
        "step", (long) c.step(),
        "through_sequence", c.throughSeq(),
        "status", c.state().status().wire(),
        "state_hash", c.stateHash(),
        "previous_hash", c.previousHash(),
        "hash", c.hash());
  }

  /** An agent definition. */
  public static JsonObject agent(AgentSpec a) {
    return JsonValue.object(
        "name", a.name(),
        "version", a.version(),
        "model", a.model(),
        "instructions", a.instructions(),
        "tools", a.tools(),
        "budget", EventCodec.budget(a.budget()),
        "max_output_tokens", (long) a.maxOutputTokens());
  }

  /** A tool's declaration. */
  public static JsonObject tool(ToolSpec t) {
    return JsonValue.object(
        "name", t.name(),
        "version", t.version(),
        "description", t.description(),
        "input_schema", t.inputSchema(),
        "risk_level", (long) t.riskLevel(),
        "idempotency", t.idempotency().name().toLowerCase(java.util.Locale.ROOT),
        "unknown_outcome", t.unknownOutcome().name().toLowerCase(java.util.Locale.ROOT),
        "timeout_s", t.timeout().toSeconds());
  }
}
