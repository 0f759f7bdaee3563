package dev.keel.server;

import dev.keel.engine.Engine;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunHeader;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.SignalPayload;
import dev.keel.tool.Tool;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** The handlers of approvals, agents, tools and usage. */
final class CatalogRoutes {
  private static final Set<String> STATUSES = Set.of("pending", "approved", "denied", "expired");
  private static final Set<String> GROUPS =
      Set.of("tenant", "user", "agent", "model", "tool", "skill", "prompt_version");
  private final Engine engine;
  private final RunStore store;
  private final RunRoutes runs;
  private final ApprovalReview review;

  CatalogRoutes(Engine engine, RunRoutes runs) {
    this(engine, runs, ApprovalReview.NONE);
  }

  CatalogRoutes(Engine engine, RunRoutes runs, ApprovalReview review) {
    this.engine = engine;
    this.store = engine.store();
    this.runs = runs;
    this.review = review;
  }

  Reply approvals(Call c) {
    Optional<String> status = c.query("status");
    if (status.isPresent() && !STATUSES.contains(status.get())) {
      throw ApiException.invalid(
          "?status",
          "must be one of pending, approved, denied, expired; got '" + status.get() + "'");
    }
    int limit = (int) c.queryLong("limit", 100, 1, 1000);
    List<JsonValue> data = new ArrayList<>();
    store.approvals(c.tenant(), status, limit).forEach(a -> data.add(Wire.approval(a)));
    return Reply.ok(JsonValue.object("data", data));
  }

  private ApprovalRecord owned(Call c, String id) {
    if (id.length() > 128) {
      throw ApiException.notFound("approval", id.substring(0, 32) + "…");
    }
    return store.approval(c.tenant(), id).orElseThrow(() -> ApiException.notFound("approval", id));
  }

  Reply approval(Call c) {
    return Reply.ok(Wire.approval(owned(c, c.path("id"))));
  }

  Reply approve(Call c) {
    String id = c.path("id");
    JsonObject body = c.json();
    Fields f = Fields.of(body, Set.of("arguments", "comment"));
    Optional<JsonObject> args = f.object("arguments");
    String comment = f.string("comment", 4000).orElse("");
    f.check();
    return decide(
        c, new SignalPayload.ApprovalDecision(id, "approved", c.key().id(), args, comment));
  }

  Reply deny(Call c) {
    String id = c.path("id");
    Fields f = Fields.of(c.json(), Set.of("reason"));
    String reason = f.requiredString("reason", 4000);
    f.check();
    return decide(
        c,
        new SignalPayload.ApprovalDecision(id, "denied", c.key().id(), Optional.empty(), reason));
  }

  private Reply decide(Call c, SignalPayload.ApprovalDecision d) {
    Optional<ApprovalRecord> stored =
        d.approvalId().length() > 128
            ? Optional.empty()
            : store.approval(c.tenant(), d.approvalId());
    Optional<ApprovalReview.Refusal> refused = review.review(c.key(), stored, d);
    if (refused.isPresent()) {
      throw refused.get().toException();
    }
    ApprovalRecord before = owned(c, d.approvalId());
    if (!before.status().equals("pending")) {
      throw notPending(before);
    }
    ApprovalRecord after =
        store
            .decide(c.tenant(), (SignalPayload.ApprovalDecision) d.redacted(engine.redaction()))
            .orElseThrow(() -> ApiException.notFound("approval", d.approvalId()));
    if (!after.status().equals(d.decision())) {
      throw notPending(after);
    }
    return Reply.ok(Wire.approval(after));
  }

  private static ApiException notPending(ApprovalRecord a) {
    return new ApiException(
        409,
        "approval_not_pending",
        "Approval already decided",
        "approval "
            + a.approvalId()
            + " is "
            + a.status()
            + ", not pending; it cannot be decided again");
  }

  Reply agents(Call c) {
    List<JsonValue> data = new ArrayList<>();
    engine.agents().all().forEach(a -> data.add(Wire.agent(a)));
    return Reply.ok(JsonValue.object("data", data));
  }

  Reply agent(Call c) {
    String name = c.path("name");
    return engine
        .agents()
        .latest(name)
        .map(a -> Reply.ok(Wire.agent(a).with("versions", JsonValue.from(List.of(a.version())))))
        .orElseThrow(() -> ApiException.notFound("agent", name));
  }

  Reply tools(Call c) {
    List<JsonValue> data = new ArrayList<>();
    for (Tool t : engine.tools().all()) {
      data.add(Wire.tool(t.spec()));
    }
    return Reply.ok(JsonValue.object("data", data));
  }

  private static Optional<Instant> instant(Call c, String name) {
    try {
      return c.query(name).map(Instant::parse);
    } catch (DateTimeParseException x) {
      throw ApiException.invalid(
          "?" + name, "must be an RFC 3339 UTC time like 2026-01-31T00:00:00Z");
    }
  }

  /**
   * Sums the recorded model calls ({@code model.responded}: tokens and cost in integer
   * micro-dollars) and first tool-call attempts of the caller's tenant, by one dimension, over the
   * events recorded in {@code [from, to)}. A run's usage counts under each of its keys: under each
   * skill it recorded ({@code versions.skills}, else the caller's {@code metadata.skill} tag), so
   * skill groups may overlap; every other dimension partitions the calls, so its groups add up to
   * the tenant's total.
   */
  Reply usage(Call c) {
    String by = c.query("group_by").orElse("tenant");
    if (!GROUPS.contains(by)) {
      throw ApiException.invalid(
          "?group_by",
          "must be one of tenant, user, agent, model, tool, skill, prompt_version; got '"
              + by
              + "'");
    }
    Instant from = instant(c, "from").orElse(Instant.MIN);
    Instant to = instant(c, "to").orElse(Instant.MAX);
    if (!from.isBefore(to)) {
      throw ApiException.invalid("?to", "must be after ?from (" + from + "), got " + to);
    }
    // per group: model calls, tool calls, input tokens, output tokens, cost micros
    Map<String, long[]> groups = new TreeMap<>();
    // per group: the runs with model calls in range, and the cost of those that completed
    Map<String, java.util.Set<String>> runsOf = new TreeMap<>();
    Map<String, java.util.Set<String>> completedOf = new TreeMap<>();
    Map<String, long[]> completedCost = new TreeMap<>();
    for (RunRow r : store.rows()) {
      if (!r.tenant().equals(c.tenant())) {
        continue;
      }
      RunHeader h = runs.header(r.runId());
      long after = 0;
      while (true) {
        List<EventEnvelope> page = store.events(r.runId(), after, 1000);
        for (EventEnvelope e : page) {
          after = e.seq();
          if (e.at().isBefore(from) || !e.at().isBefore(to)) {
            continue;
          }
          if (e.event() instanceof RunEvent.ModelResponded m && !by.equals("tool")) {
            for (String k : keys(by, h, m.response().model(), "")) {
              long[] g = groups.computeIfAbsent(k, x -> new long[5]);
              g[0]++;
              g[2] += m.response().usage().inputTokens();
              g[3] += m.response().usage().outputTokens();
              g[4] += m.costMicros();
              runsOf.computeIfAbsent(k, x -> new java.util.TreeSet<>()).add(r.runId().value());
              if (r.status() == dev.keel.run.RunStatus.COMPLETED) {
                completedOf
                    .computeIfAbsent(k, x -> new java.util.TreeSet<>())
                    .add(r.runId().value());
                completedCost.computeIfAbsent(k, x -> new long[1])[0] += m.costMicros();
              }
            }
          } else if (e.event() instanceof RunEvent.ModelResponded m) {
            // by tool: the model calls are one group of their own
            long[] g = groups.computeIfAbsent("(model calls)", x -> new long[5]);
            g[0]++;
            g[2] += m.response().usage().inputTokens();
            g[3] += m.response().usage().outputTokens();
            g[4] += m.costMicros();
          } else if (e.event() instanceof RunEvent.ToolCallStarted t && t.attempt() == 1) {
            for (String k : keys(by, h, "", t.tool())) {
              groups.computeIfAbsent(k, x -> new long[5])[1]++;
            }
          }
        }
        if (page.size() < 1000) {
          break;
        }
      }
    }
    List<JsonValue> data = new ArrayList<>();
    groups.forEach(
        (k, g) -> {
          java.util.Set<String> done = completedOf.getOrDefault(k, java.util.Set.of());
          data.add(
              JsonValue.object(
                  by,
                  k,
                  "model_calls",
                  g[0],
                  "tool_calls",
                  g[1],
                  "input_tokens",
                  g[2],
                  "output_tokens",
                  g[3],
                  "cost_micros",
                  g[4],
                  "cost_usd",
                  Wire.usd(g[4]),
                  "runs",
                  (long) runsOf.getOrDefault(k, java.util.Set.of()).size(),
                  "successful_runs",
                  (long) done.size(),
                  "cost_per_successful_run_usd",
                  done.isEmpty()
                      ? JsonValue.NULL
                      : Wire.usd(completedCost.get(k)[0] / done.size())));
        });
    return Reply.ok(
        JsonValue.object(
            "group_by",
            by,
            "from",
            from.equals(Instant.MIN) ? JsonValue.NULL : JsonValue.of(from.toString()),
            "to",
            to.equals(Instant.MAX) ? JsonValue.NULL : JsonValue.of(to.toString()),
            "data",
            data));
  }

  /** The groups a call of run {@code h} (to {@code model}, or of {@code tool}) counts under. */
  private static List<String> keys(String by, RunHeader h, String model, String tool) {
    return switch (by) {
      case "tenant" -> List.of(h.tenant());
      case "agent" -> List.of(h.agentName());
      case "model" -> List.of(model.isEmpty() ? "(tool calls)" : model);
      case "tool" -> List.of(tool.isEmpty() ? "(model calls)" : tool);
      case "prompt_version" ->
          List.of(h.agentName() + "@" + h.versions().string("prompt").orElse("(unrecorded)"));
      case "skill" -> skills(h);
      // the API key that created the run (a sub-run inherits its parent's), never a client label
      default -> List.of(h.createdBy().orElse("(unrecorded)"));
    };
  }

  /**
   * A run's skills: {@code name@version} for each entry of its recorded {@code versions.skills} (a
   * mapping of name to version, or a list of names), else its {@code metadata.skill} tag, else
   * {@code (none)}.
   */
  private static List<String> skills(RunHeader h) {
    List<String> out = new ArrayList<>();
    switch (h.versions().get("skills").orElse(JsonValue.NULL)) {
      case JsonValue.JsonObject o ->
          o.members()
              .forEach(
                  (name, v) ->
                      out.add(
                          name
                              + "@"
                              + (v instanceof JsonValue.JsonString str
                                  ? str.value()
                                  : v.toString())));
      case JsonValue.JsonArray a -> {
        for (JsonValue v : a.items()) {
          out.add(v instanceof JsonValue.JsonString str ? str.value() : v.toString());
        }
      }
      default -> {}
    }
    if (out.isEmpty()) {
      out.add(h.metadata().string("skill").orElse("(none)"));
    }
    return out;
  }
}
