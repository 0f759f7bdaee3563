package dev.keel.run;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.RunEvent.ApprovalRequested;
import dev.keel.run.RunEvent.ApprovalResolved;
import dev.keel.run.RunEvent.BudgetExceeded;
import dev.keel.run.RunEvent.CheckpointSaved;
import dev.keel.run.RunEvent.DecisionRecorded;
import dev.keel.run.RunEvent.MessageReceived;
import dev.keel.run.RunEvent.ModelRequested;
import dev.keel.run.RunEvent.ModelResponded;
import dev.keel.run.RunEvent.OutputRecorded;
import dev.keel.run.RunEvent.RunCancelled;
import dev.keel.run.RunEvent.RunCompleted;
import dev.keel.run.RunEvent.RunCreated;
import dev.keel.run.RunEvent.RunFailed;
import dev.keel.run.RunEvent.RunPaused;
import dev.keel.run.RunEvent.RunResumed;
import dev.keel.run.RunEvent.RunStarted;
import dev.keel.run.RunEvent.RunTimedOut;
import dev.keel.run.RunEvent.RunWaiting;
import dev.keel.run.RunEvent.ToolCallFailed;
import dev.keel.run.RunEvent.ToolCallProposed;
import dev.keel.run.RunEvent.ToolCallStarted;
import dev.keel.run.RunEvent.ToolCallSucceeded;
import dev.keel.run.RunEvent.ToolOutcomeUnknown;
import dev.keel.tool.UnknownOutcomePolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The stored and public JSON shape of every event payload: snake_case fields, absent optional
 * fields read as absent, unknown fields ignored. Golden files in the tests pin the shape.
 */
public final class EventCodec {
  private EventCodec() {}

  /** The canonical JSON text of {@code event}'s payload. */
  public static String encode(RunEvent event) {
    return toJson(event).toString();
  }

  /** The JSON payload of {@code event}. */
  public static JsonObject toJson(RunEvent event) {
    Map<String, Object> m = new LinkedHashMap<>();
    switch (event) {
      case RunCreated c -> {
        m.put("tenant", c.tenant());
        m.put("agent", JsonValue.object("name", c.agentName(), "version", c.agentVersion()));
        m.put("input", c.input());
        m.put("budget", budget(c.budget()));
        m.put("channel", c.channel());
        c.threadId().ifPresent(t -> m.put("thread_id", t));
        c.parentRunId().ifPresent(p -> m.put("parent_run_id", p));
        m.put("metadata", c.metadata());
        c.fork().ifPresent(f -> m.put("fork", f));
        if (!c.versions().members().isEmpty()) {
          m.put("versions", c.versions());
        }
        c.createdBy().ifPresent(b -> m.put("created_by", b));
      }
      case RunStarted s -> {}
      case ModelRequested r -> {
        m.put("step", (long) r.step());
        m.put("model", r.model());
        m.put("reserved_micros", r.reservedMicros());
      }
      case ModelResponded r -> {
        m.put("step", (long) r.step());
        m.put("response", response(r.response()));
        m.put("cost_micros", r.costMicros());
      }
      case DecisionRecorded d -> {
        m.put("step", (long) d.step());
        m.put("action", d.action());
        m.put("summary", d.summary());
      }
      case ToolCallProposed p -> {
        m.put("step", (long) p.step());
        m.put("call_id", p.callId());
        m.put("tool", p.tool());
        m.put("tool_version", p.toolVersion());
        m.put("arguments", p.arguments());
        m.put("verdict", p.verdict());
        m.put("reason", p.reason());
      }
      case ApprovalRequested a -> {
        m.put("approval_id", a.approvalId());
        m.put("kind", a.kind());
        m.put("call_id", a.callId());
        m.put("tool", a.tool());
        m.put("arguments", a.arguments());
        m.put("arguments_hash", a.argumentsHash());
        m.put("risk_level", (long) a.riskLevel());
        m.put("reason", a.reason());
        m.put("expires_at", a.expiresAt().toString());
      }
      case ApprovalResolved r -> {
        m.put("approval_id", r.approvalId());
        m.put("decision", r.decision());
        m.put("decided_by", r.decidedBy());
        r.arguments().ifPresent(a -> m.put("arguments", a));
        m.put("comment", r.comment());
        m.put("signal_seq", r.signalSeq());
      }
      case ToolCallStarted s -> {
        m.put("call_id", s.callId());
        m.put("tool", s.tool());
        m.put("idempotency_key", s.idempotencyKey());
        m.put("attempt", (long) s.attempt());
        m.put("epoch", s.epoch());
      }
      case ToolCallSucceeded s -> {
        m.put("call_id", s.callId());
        m.put("data", s.data());
      }
      case ToolCallFailed f -> {
        m.put("call_id", f.callId());
        m.put(
            "error",
            JsonValue.object(
                "type", f.errorType(), "retryable", f.retryable(), "message", f.message()));
      }
      case ToolOutcomeUnknown u -> {
        m.put("call_id", u.callId());
        m.put("policy", u.policy().name().toLowerCase(Locale.ROOT));
        if (!u.compensationTool().isEmpty()) {
          m.put("compensation", u.compensationTool());
        }
      }
      case CheckpointSaved c -> {
        m.put("step", (long) c.step());
        m.put("through_seq", c.throughSeq());
        m.put("hash", c.hash());
      }
      case BudgetExceeded b -> {
        m.put("limit", b.limit());
        m.put("detail", b.detail());
      }
      case RunWaiting w -> m.put("reason", w.reason());
      case RunPaused p -> m.put("signal_seq", p.signalSeq());
      case RunResumed r -> {
        m.put("input", r.input());
        m.put("signal_seq", r.signalSeq());
      }
      case MessageReceived r -> {
        m.put("content", r.content());
        m.put("signal_seq", r.signalSeq());
      }
      case OutputRecorded o -> m.put("output", o.output());
      case RunCompleted c -> {}
      case RunFailed f ->
          m.put("error", JsonValue.object("code", f.code(), "message", f.message()));
      case RunCancelled c -> {
        m.put("reason", c.reason());
        m.put("signal_seq", c.signalSeq());
      }
      case RunTimedOut t -> {
        m.put("limit", t.limit());
        m.put("message", t.message());
      }
      case RunEvent.PlanUpdated p -> {
        m.put("step", (long) p.step());
        m.put("call_id", p.callId());
        m.put("plan", p.plan());
        m.put("by", p.by());
        m.put("signal_seq", p.signalSeq());
      }
      case RunEvent.CandidateChosen c -> {
        m.put("step", (long) c.step());
        m.put("call_id", c.callId());
        m.put("arguments", c.arguments());
        m.put("chosen", c.chosen());
        m.put("confidence", c.confidence());
      }
      case RunEvent.AnswerDrafted a -> {
        m.put("step", (long) a.step());
        m.put("call_id", a.callId());
        m.put("text", a.text());
        m.put("data", a.data());
      }
      case RunEvent.SubrunSpawned x -> {
        m.put("step", (long) x.step());
        m.put("call_id", x.callId());
        m.put("child_run_id", x.childRunId());
        m.put("agent", JsonValue.object("name", x.agent(), "version", x.agentVersion()));
        m.put("goal", x.goal());
        m.put("budget", x.budget());
      }
      case RunEvent.SubrunFinished x -> {
        m.put("call_id", x.callId());
        m.put("child_run_id", x.childRunId());
        m.put("status", x.status());
        m.put("result", x.result());
        m.put("usage", x.usage());
      }
      case RunEvent.OutputChecked c -> {
        m.put("check", c.check());
        m.put("attempt", (long) c.attempt());
        m.put("passed", c.passed());
        m.put("result", c.result());
        m.put("usage", usage(c.usage()));
        m.put("cost_micros", c.costMicros());
      }
    }
    return (JsonObject) JsonValue.from(m);
  }

  /** Reads a stored payload of {@code type}. */
  public static RunEvent decode(String type, String json) {
    return decode(type, JsonParser.parse(json));
  }

  /** Reads a payload of {@code type}. */
  public static RunEvent decode(String type, JsonValue json) {
    JsonFields f = JsonFields.of(json, "event " + type);
    return switch (type) {
      case "run.created" -> {
        JsonFields agent = f.sub("agent");
        yield new RunCreated(
            f.str("tenant"),
            agent.str("name"),
            agent.str("version"),
            f.obj("input"),
            budget(f.sub("budget")),
            f.str("channel", "api"),
            f.optStr("thread_id"),
            f.optStr("parent_run_id"),
            f.obj("metadata", JsonValue.EMPTY_OBJECT),
            f.optObj("fork"),
            f.obj("versions", JsonValue.EMPTY_OBJECT),
            f.optStr("created_by"));
      }
      case "run.started" -> new RunStarted();
      case "model.requested" ->
          new ModelRequested(f.integer("step"), f.str("model"), f.num("reserved_micros", 0));
      case "model.responded" ->
          new ModelResponded(
              f.integer("step"), response(f.sub("response")), f.num("cost_micros", 0));
      case "decision.recorded" ->
          new DecisionRecorded(
              f.integer("step"), f.str("action"), f.obj("summary", JsonValue.EMPTY_OBJECT));
      case "tool.proposed" ->
          new ToolCallProposed(
              f.integer("step"),
              f.str("call_id"),
              f.str("tool"),
              f.str("tool_version", ""),
              f.obj("arguments"),
              f.str("verdict"),
              f.str("reason", ""));
      case "approval.requested" ->
          new ApprovalRequested(
              f.str("approval_id"),
              f.str("kind"),
              f.str("call_id"),
              f.str("tool"),
              f.obj("arguments"),
              f.str("arguments_hash"),
              f.integer("risk_level"),
              f.str("reason", ""),
              f.instant("expires_at"));
      case "approval.resolved" ->
          new ApprovalResolved(
              f.str("approval_id"),
              f.str("decision"),
              f.str("decided_by", ""),
              f.optObj("arguments"),
              f.str("comment", ""),
              f.num("signal_seq", 0));
      case "tool.started" ->
          new ToolCallStarted(
              f.str("call_id"),
              f.str("tool"),
              f.str("idempotency_key"),
              f.integer("attempt"),
              f.num("epoch", 0));
      case "tool.succeeded" -> new ToolCallSucceeded(f.str("call_id"), f.value("data"));
      case "tool.failed" -> {
        JsonFields e = f.sub("error");
        yield new ToolCallFailed(
            f.str("call_id"), e.str("type"), e.bool("retryable"), e.str("message", ""));
      }
      case "tool.outcome_unknown" ->
          new ToolOutcomeUnknown(
              f.str("call_id"),
              UnknownOutcomePolicy.valueOf(f.str("policy").toUpperCase(Locale.ROOT)),
              f.str("compensation", ""));
      case "checkpoint.saved" ->
          new CheckpointSaved(f.integer("step"), f.num("through_seq"), f.str("hash"));
      case "budget.exceeded" -> new BudgetExceeded(f.str("limit"), f.str("detail", ""));
      case "run.waiting" -> new RunWaiting(f.str("reason", ""));
      case "run.paused" -> new RunPaused(f.num("signal_seq", 0));
      case "run.resumed" -> new RunResumed(f.value("input"), f.num("signal_seq", 0));
      case "message.received" -> new MessageReceived(f.str("content"), f.num("signal_seq", 0));
      case "output.recorded" -> new OutputRecorded(f.obj("output"));
      case "run.completed" -> new RunCompleted();
      case "run.failed" -> {
        JsonFields e = f.sub("error");
        yield new RunFailed(e.str("code"), e.str("message", ""));
      }
      case "run.cancelled" -> new RunCancelled(f.str("reason", ""), f.num("signal_seq", 0));
      case "run.timed_out" -> new RunTimedOut(f.str("limit"), f.str("message", ""));
      case "plan.updated" ->
          new RunEvent.PlanUpdated(
              f.integer("step"),
              f.str("call_id", ""),
              f.obj("plan"),
              f.str("by", ""),
              f.num("signal_seq", 0));
      case "candidate.chosen" ->
          new RunEvent.CandidateChosen(
              f.integer("step"),
              f.str("call_id"),
              f.obj("arguments", JsonValue.EMPTY_OBJECT),
              f.value("chosen"),
              f.str("confidence", ""));
      case "answer.drafted" ->
          new RunEvent.AnswerDrafted(
              f.integer("step"),
              f.str("call_id", ""),
              f.str("text", ""),
              f.obj("data", JsonValue.EMPTY_OBJECT));
      case "subrun.spawned" -> {
        JsonFields agent = f.sub("agent");
        yield new RunEvent.SubrunSpawned(
            f.integer("step"),
            f.str("call_id"),
            f.str("child_run_id"),
            agent.str("name"),
            agent.str("version"),
            f.str("goal", ""),
            f.obj("budget"));
      }
      case "subrun.finished" ->
          new RunEvent.SubrunFinished(
              f.str("call_id"),
              f.str("child_run_id"),
              f.str("status"),
              f.obj("result", JsonValue.EMPTY_OBJECT),
              f.obj("usage", JsonValue.EMPTY_OBJECT));
      case "output.checked" -> {
        JsonFields u = f.sub("usage");
        yield new RunEvent.OutputChecked(
            f.str("check"),
            f.integer("attempt"),
            f.bool("passed"),
            f.obj("result", JsonValue.EMPTY_OBJECT),
            new dev.keel.model.TokenUsage(
                u.num("input_tokens", 0),
                u.num("output_tokens", 0),
                u.num("cached_input_tokens", 0),
                u.num("reasoning_tokens", 0)),
            f.num("cost_micros", 0));
      }
      default -> throw new IllegalArgumentException("unknown event type '" + type + "'");
    };
  }

  /** The JSON of a budget, in the API's units (USD and seconds). */
  public static JsonObject budget(Budget b) {
    return JsonValue.object(
        "max_steps", (long) b.maxSteps(),
        "max_model_calls", (long) b.maxModelCalls(),
        "max_tool_calls", (long) b.maxToolCalls(),
        "max_cost_usd", java.math.BigDecimal.valueOf(b.maxCostMicros(), 6),
        "max_duration_s", b.maxDuration().toSeconds());
  }

  /** Reads a budget written by {@link #budget(Budget)}. */
  public static Budget budget(JsonObject o) {
    return budget(JsonFields.of(o, "budget"));
  }

  static Budget budget(JsonFields f) {
    return new Budget(
        f.integer("max_steps"),
        f.integer("max_model_calls"),
        f.integer("max_tool_calls"),
        usdToMicros(f.opt("max_cost_usd").orElse(JsonValue.of(0))),
        Duration.ofSeconds(f.num("max_duration_s")));
  }

  /** Converts a JSON dollar amount to micro-dollars, rounding up. */
  public static long usdToMicros(JsonValue usd) {
    if (usd instanceof JsonValue.JsonNumber n) {
      return n.value()
          .movePointRight(6)
          .setScale(0, java.math.RoundingMode.CEILING)
          .longValueExact();
    }
    throw new IllegalArgumentException("a dollar amount must be a number");
  }

  /** The JSON of a model response. */
  public static JsonObject response(ModelResponse r) {
    List<JsonValue> calls = new ArrayList<>();
    for (ToolCallRequest c : r.toolCalls()) {
      calls.add(JsonValue.object("id", c.id(), "name", c.name(), "arguments", c.arguments()));
    }
    return JsonValue.object(
        "model", r.model(),
        "text", r.text(),
        "tool_calls", new JsonArray(calls),
        "usage", usage(r.usage()),
        "finish_reason", r.finishReason().name().toLowerCase(Locale.ROOT));
  }

  static ModelResponse response(JsonFields f) {
    List<ToolCallRequest> calls = new ArrayList<>();
    for (JsonValue v : f.array("tool_calls")) {
      JsonFields c = JsonFields.of(v, "tool call");
      calls.add(new ToolCallRequest(c.str("id"), c.str("name"), c.obj("arguments")));
    }
    JsonFields u = f.sub("usage");
    return new ModelResponse(
        f.str("model", ""),
        f.str("text", ""),
        calls,
        new TokenUsage(
            u.num("input_tokens", 0),
            u.num("output_tokens", 0),
            u.num("cached_input_tokens", 0),
            u.num("reasoning_tokens", 0)),
        FinishReason.valueOf(f.str("finish_reason", "stop").toUpperCase(Locale.ROOT)));
  }

  static JsonObject usage(TokenUsage u) {
    return JsonValue.object(
        "input_tokens", u.inputTokens(),
        "output_tokens", u.outputTokens(),
        "cached_input_tokens", u.cachedInputTokens(),
        "reasoning_tokens", u.reasoningTokens());
  }

  static Optional<String> nonEmpty(String s) {
    return s.isEmpty() ? Optional.empty() : Optional.of(s);
  }
}
