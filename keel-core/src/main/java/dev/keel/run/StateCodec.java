package dev.keel.run;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ToolCallRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The stored JSON of a checkpoint's state. Reading it back gives an equal {@link RunState}. */
public final class StateCodec {
  private StateCodec() {}

  /** The JSON of {@code s}. */
  public static JsonObject toJson(RunState s) {
    RunHeader h = s.header();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", h.runId().value());
    m.put(
        "created",
        EventCodec.toJson(
            new RunEvent.RunCreated(
                h.tenant(),
                h.agentName(),
                h.agentVersion(),
                h.input(),
                h.budget(),
                h.channel(),
                h.threadId(),
                h.parentRunId(),
                h.metadata(),
                java.util.Optional.empty(),
                h.versions(),
                h.createdBy())));
    m.put("created_at", h.createdAt().toString());
    m.put("status", s.status().wire());
    m.put("phase", s.phase().wire());
    m.put("step", (long) s.step());
    m.put("last_seq", s.lastSeq());
    m.put("last_epoch", s.lastEpoch());
    m.put("chain_hash", s.chainHash());
    m.put("signals_consumed", s.signalsConsumed());
    Usage u = s.usage();
    m.put(
        "usage",
        JsonValue.object(
            "model_calls", (long) u.modelCalls(),
            "tool_calls", (long) u.toolCalls(),
            "input_tokens", u.inputTokens(),
            "output_tokens", u.outputTokens(),
            "cost_micros", u.costMicros()));
    m.put("messages", messages(s.messages()));
    m.put("inbox", messages(s.inbox()));
    s.pendingModel().ifPresent(p -> m.put("pending_model", EventCodec.toJson(p)));
    List<JsonValue> calls = new ArrayList<>();
    for (ToolCallState c : s.calls()) {
      Map<String, Object> cm = new LinkedHashMap<>();
      cm.put("call_id", c.callId());
      cm.put("provider_call_id", c.providerCallId());
      cm.put("step", (long) c.step());
      cm.put("tool", c.tool());
      cm.put("tool_version", c.toolVersion());
      cm.put("arguments", c.arguments());
      cm.put("status", c.status().name().toLowerCase(Locale.ROOT));
      c.approvalId().ifPresent(a -> cm.put("approval_id", a));
      cm.put("attempts", (long) c.attempts());
      cm.put("started_epoch", c.startedEpoch());
      c.result().ifPresent(r -> cm.put("result", r));
      calls.add(JsonValue.from(cm));
    }
    m.put("calls", new JsonArray(calls));
    List<JsonValue> approvals = new ArrayList<>();
    for (PendingApproval a : s.approvals()) {
      approvals.add(
          JsonValue.object(
              "approval_id", a.approvalId(),
              "kind", a.kind(),
              "call_id", a.callId(),
              "arguments_hash", a.argumentsHash(),
              "expires_at", a.expiresAt().toString()));
    }
    m.put("approvals", new JsonArray(approvals));
    s.finalAnswer().ifPresent(a -> m.put("final_answer", a));
    s.output().ifPresent(o -> m.put("output", o));
    s.error()
        .ifPresent(e -> m.put("error", JsonValue.object("code", e.code(), "message", e.message())));
    m.put("last_checkpoint_step", (long) s.lastCheckpointStep());
    m.put("last_checkpoint_hash", s.lastCheckpointHash());
    if (!s.loop().equals(LoopState.INITIAL)) {
      LoopState l = s.loop();
      Map<String, Object> lm = new LinkedHashMap<>();
      lm.put("plan", l.plan().toJson());
      l.draftData().ifPresent(d -> lm.put("draft_data", d));
      lm.put("draft_call_id", l.draftCallId());
      lm.put("draft_reflected", l.draftReflected());
      lm.put("repairs", (long) l.repairs());
      lm.put("reflections", (long) l.reflections());
      m.put("loop", lm);
    }
    return (JsonObject) JsonValue.from(m);
  }

  /** Reads a stored state. */
  public static RunState fromJson(String json) {
    return fromJson(JsonParser.parse(json));
  }

  /** Reads a state from JSON. */
  public static RunState fromJson(JsonValue json) {
    JsonFields f = JsonFields.of(json, "checkpoint state");
    RunEvent.RunCreated c =
        (RunEvent.RunCreated) EventCodec.decode("run.created", f.obj("created"));
    RunHeader header =
        new RunHeader(
            RunId.of(f.str("run_id")),
            c.tenant(),
            c.agentName(),
            c.agentVersion(),
            c.input(),
            c.budget(),
            c.channel(),
            c.threadId(),
            c.parentRunId(),
            c.metadata(),
            f.instant("created_at"),
            c.versions(),
            c.createdBy());
    JsonFields u = f.sub("usage");
    List<ToolCallState> calls = new ArrayList<>();
    for (JsonValue v : f.array("calls")) {
      JsonFields cf = JsonFields.of(v, "checkpoint call");
      calls.add(
          new ToolCallState(
              cf.str("call_id"),
              cf.str("provider_call_id", ""),
              cf.integer("step"),
              cf.str("tool"),
              cf.str("tool_version", ""),
              cf.obj("arguments"),
              ToolCallState.Status.valueOf(cf.str("status").toUpperCase(Locale.ROOT)),
              cf.optStr("approval_id"),
              cf.integer("attempts"),
              cf.num("started_epoch", 0),
              cf.opt("result")));
    }
    List<PendingApproval> approvals = new ArrayList<>();
    for (JsonValue v : f.array("approvals")) {
      JsonFields af = JsonFields.of(v, "checkpoint approval");
      approvals.add(
          new PendingApproval(
              af.str("approval_id"),
              af.str("kind"),
              af.str("call_id"),
              af.str("arguments_hash"),
              Instant.parse(af.str("expires_at"))));
    }
    return new RunState(
        header,
        RunStatus.fromWire(f.str("status")),
        RunPhase.valueOf(f.str("phase").toUpperCase(Locale.ROOT)),
        f.integer("step"),
        f.num("last_seq"),
        f.num("last_epoch"),
        f.str("chain_hash"),
        f.num("signals_consumed"),
        new Usage(
            u.integer("model_calls"),
            u.integer("tool_calls"),
            u.num("input_tokens"),
            u.num("output_tokens"),
            u.num("cost_micros")),
        readMessages(f.array("messages")),
        readMessages(f.array("inbox")),
        f.optObj("pending_model")
            .map(p -> (RunEvent.ModelRequested) EventCodec.decode("model.requested", p)),
        calls,
        approvals,
        f.optStr("final_answer"),
        f.optObj("output"),
        f.optObj("error")
            .map(e -> new RunError(e.string("code").orElse(""), e.string("message").orElse(""))),
        f.integer("last_checkpoint_step"),
        f.str("last_checkpoint_hash"),
        f.optObj("loop").map(StateCodec::readLoop).orElse(LoopState.INITIAL));
  }

  private static LoopState readLoop(JsonObject o) {
    JsonFields l = JsonFields.of(o, "checkpoint loop");
    return new LoopState(
        Plan.fromJson(l.obj("plan")),
        l.optObj("draft_data"),
        l.str("draft_call_id", ""),
        l.opt("draft_reflected").map(v -> v.equals(JsonValue.of(true))).orElse(false),
        l.integer("repairs"),
        l.integer("reflections"));
  }

  /** The JSON of a conversation. */
  public static JsonArray messages(List<Message> messages) {
    List<JsonValue> out = new ArrayList<>();
    for (Message msg : messages) {
      out.add(message(msg));
    }
    return new JsonArray(out);
  }

  /** The JSON of one message of a conversation, an element of {@link #messages}. */
  public static JsonObject message(Message msg) {
    return switch (msg) {
      case Message.System s -> JsonValue.object("role", "system", "text", s.text());
      case Message.User s -> JsonValue.object("role", "user", "text", s.text());
      case Message.Assistant a -> {
        List<JsonValue> calls = new ArrayList<>();
        for (ToolCallRequest c : a.toolCalls()) {
          calls.add(JsonValue.object("id", c.id(), "name", c.name(), "arguments", c.arguments()));
        }
        yield JsonValue.object(
            "role", "assistant", "text", a.text(), "tool_calls", new JsonArray(calls));
      }
      case Message.ToolResult r ->
          JsonValue.object(
              "role", "tool",
              "call_id", r.callId(),
              "tool", r.toolName(),
              "content", r.content(),
              "is_error", r.isError());
    };
  }

  public static List<Message> readMessages(List<JsonValue> items) {
    List<Message> out = new ArrayList<>();
    for (JsonValue v : items) {
      JsonFields f = JsonFields.of(v, "message");
      out.add(
          switch (f.str("role")) {
            case "system" -> new Message.System(f.str("text"));
            case "user" -> new Message.User(f.str("text"));
            case "assistant" -> {
              List<ToolCallRequest> calls = new ArrayList<>();
              for (JsonValue c : f.array("tool_calls")) {
                JsonFields cf = JsonFields.of(c, "tool call");
                calls.add(new ToolCallRequest(cf.str("id"), cf.str("name"), cf.obj("arguments")));
              }
              yield new Message.Assistant(f.str("text", ""), calls);
            }
            case "tool" ->
                new Message.ToolResult(
                    f.str("call_id"), f.str("tool"), f.value("content"), f.bool("is_error"));
            default ->
                throw new IllegalArgumentException("unknown message role '" + f.str("role") + "'");
          });
    }
    return out;
  }
}
