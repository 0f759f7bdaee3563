package dev.keel.server;

import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunHeader;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.CreateResult;
import dev.keel.store.RunQuery;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.SignalPayload;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The handlers of the run routes: create, list, read, wait, steer, events and checkpoints. */
final class RunRoutes {
  private static final Set<String> CHANNELS =
      Set.of("api", "web", "cli", "voice", "mcp", "webhook");
  private final Engine engine;
  private final Runs runs;
  private final RunStore store;
  private final EventStream streams;
  private final Map<RunId, RunHeader> headers = new ConcurrentHashMap<>();
  private final RunQuery query;
  private final ServerServices services;
  private final RunAdmission admission;

  RunRoutes(Engine engine, Runs runs, EventStream streams, ServerServices services) {
    this.engine = engine;
    this.runs = runs;
    this.store = engine.store();
    this.streams = streams;
    this.services = services;
    this.query =
        services.runs().orElseGet(() -> new ScanRunQuery(store, id -> header(id).threadId()));
    this.admission = new RunAdmission(store, query, services.policy(), services.admissions());
  }

  /** The row of a run of the caller's tenant, or 404 (another tenant's run looks missing). */
  RunRow owned(Call c, String id) {
    RunId rid;
    try {
      rid = RunId.of(id);
    } catch (IllegalArgumentException x) {
      throw ApiException.notFound("run", id);
    }
    return store
        .row(rid)
        .filter(r -> r.tenant().equals(c.tenant()))
        .orElseThrow(() -> ApiException.notFound("run", id));
  }

  JsonObject runJson(RunId id) {
    return Wire.run(runs.state(id), store.row(id));
  }

  /** A run's header; headers never change, so they are cached. */
  RunHeader header(RunId id) {
    return headers.computeIfAbsent(id, k -> runs.state(k).header());
  }

  Reply create(Call c) {
    JsonObject body = c.json();
    Fields f =
        Fields.of(
            body,
            Set.of(
                "agent",
                "agent_version",
                "input",
                "thread_id",
                "channel",
                "budget",
                "metadata",
                "webhook"));
    String agentName = f.requiredString("agent", 64);
    Optional<String> version = f.string("agent_version", 64);
    JsonObject input = JsonValue.EMPTY_OBJECT;
    Optional<Fields> in = f.nested("input", Set.of("goal", "messages"));
    if (body.get("input").isEmpty()) {
      f.error("input", "is required, for example {\"goal\": \"...\"}");
    }
    if (in.isPresent()) {
      in.get().string("goal", 100_000);
      in.get().array("messages");
      input = f.object("input").orElse(JsonValue.EMPTY_OBJECT);
    }
    Optional<String> thread = f.string("thread_id", 128);
    thread
        .filter(t -> !t.matches("[A-Za-z0-9_-]{1,128}"))
        .ifPresent(t -> f.error("thread_id", "must be letters, digits, '_' or '-'"));
    String channel = f.string("channel", 16).orElse("api");
    if (!CHANNELS.contains(channel)) {
      f.error("channel", "must be one of api, web, cli, voice, mcp, webhook");
    }
    JsonObject metadata = f.object("metadata").orElse(JsonValue.EMPTY_OBJECT);
    if (metadata.toString().length() > 16_384) {
      f.error("metadata", "must be at most 16384 characters as JSON");
    }
    Optional<String> webhook = f.string("webhook", 2048);
    if (webhook.isPresent()) {
      if (services.webhooks().isEmpty() || services.policy().webhookSecret().isEmpty()) {
        f.error(
            "webhook",
            "webhooks are not enabled on this server; set webhooks.secret (and use a SQL store)");
      } else {
        WebhookUrls.problem(webhook.get(), services.policy().webhookAllowPrivate())
            .ifPresent(p -> f.error("webhook", p));
      }
    }
    Optional<AgentSpec> agent =
        agentName.isEmpty()
            ? Optional.empty()
            : version.isPresent()
                ? engine.agents().find(agentName, version.get())
                : engine.agents().latest(agentName);
    if (!agentName.isEmpty() && agent.isEmpty()) {
      f.error(
          "agent",
          "unknown agent '"
              + agentName
              + "'"
              + version.map(v -> " version " + v).orElse("")
              + "; GET /v1/agents lists them");
    }
    Optional<Budget> budget = agent.flatMap(a -> budget(f, a.budget()));
    f.check();
    Runs.Request req =
        new Runs.Request(
            c.tenant(),
            agentName,
            version,
            input,
            budget,
            channel,
            Optional.of(thread.orElseGet(() -> engine.ids().next("thr"))),
            Optional.empty(),
            metadata,
            Optional.ofNullable(c.ctx().header("Idempotency-Key")).filter(k -> !k.isEmpty()),
            Optional.of(c.key().id()));
    Optional<String> slot = admission.admit(c.key());
    RunId newId = RunId.of(engine.ids().next("run"));
    Runs.Created made;
    try {
      // The slot names the run before the run exists: the quota counts it exactly once.
      admission.reserve(slot, newId);
      made = runs.createWithState(req, newId);
    } catch (RuntimeException x) {
      admission.abandoned(slot);
      throw x;
    }
    CreateResult r = made.result();
    if (webhook.isPresent()) {
      services
          .webhooks()
          .orElseThrow()
          .subscribe(c.tenant(), r.runId(), webhook.get(), java.time.Instant.now());
    }
    admission.created(c.key(), slot, r);
    // A new run is answered from the state it was created in (updated_at = created_at), without
    // reading it back; an existing one (same Idempotency-Key) is read as it is now.
    return made.initial()
        .map(s -> new Reply(201, Wire.run(s, Optional.empty())))
        .orElseGet(() -> new Reply(200, runJson(r.runId())));
  }

  private static Optional<Budget> budget(Fields f, Budget dflt) {
    Optional<Fields> b =
        f.nested(
            "budget",
            Set.of(
                "max_steps",
                "max_model_calls",
                "max_tool_calls",
                "max_cost_usd",
                "max_duration_s"));
    if (b.isEmpty()) {
      return Optional.empty();
    }
    Fields g = b.get();
    long steps = g.integer("max_steps", 1, 10_000).orElse((long) dflt.maxSteps());
    long model = g.integer("max_model_calls", 1, 10_000).orElse((long) dflt.maxModelCalls());
    long tools = g.integer("max_tool_calls", 0, 100_000).orElse((long) dflt.maxToolCalls());
    long cost =
        g.decimal("max_cost_usd", BigDecimal.ZERO, BigDecimal.valueOf(100_000))
            .map(
                d ->
                    d.movePointRight(6)
                        .setScale(0, java.math.RoundingMode.CEILING)
                        .longValueExact())
            .orElse(dflt.maxCostMicros());
    long secs =
        g.integer("max_duration_s", 1, 31L * 24 * 3600).orElse(dflt.maxDuration().toSeconds());
    return Optional.of(
        new Budget((int) steps, (int) model, (int) tools, cost, Duration.ofSeconds(secs)));
  }

  Reply list(Call c) {
    Optional<RunStatus> status = c.query("status").map(s -> parseStatus(s));
    int limit = (int) c.queryLong("limit", 20, 1, 100);
    Optional<RunQuery.Position> cursor = c.query("cursor").map(RunRoutes::decodeCursor);
    RunQuery.Page page =
        query.list(
            new RunQuery.Filter(c.tenant(), status, c.query("agent"), c.query("thread_id")),
            cursor,
            limit);
    List<JsonValue> data = new ArrayList<>();
    for (RunRow r : page.rows()) {
      data.add(Wire.run(runs.state(r.runId()), Optional.of(r)));
    }
    return Reply.ok(
        JsonValue.object(
            "data",
            data,
            "has_more",
            page.next().isPresent(),
            "next_cursor",
            page.next().map(RunRoutes::encodeCursor).orElse(null)));
  }

  private static RunStatus parseStatus(String s) {
    try {
      return RunStatus.fromWire(s);
    } catch (IllegalArgumentException x) {
      throw ApiException.invalid("?status", x.getMessage());
    }
  }

  private static String encodeCursor(RunQuery.Position p) {
    String raw =
        p.createdAt().getEpochSecond() + "." + p.createdAt().getNano() + "|" + p.runId().value();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  private static RunQuery.Position decodeCursor(String cursor) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      String[] parts = raw.split("\\|", -1);
      String[] time = parts[0].split("\\.", -1);
      if (parts.length != 2 || time.length != 2) {
        throw new IllegalArgumentException("wrong shape");
      }
      return new RunQuery.Position(
          java.time.Instant.ofEpochSecond(Long.parseLong(time[0]), Long.parseLong(time[1])),
          RunId.of(parts[1]));
    } catch (RuntimeException x) {
      throw ApiException.invalid(
          "?cursor", "is not a cursor this server issued; pass next_cursor from the last page");
    }
  }

  Reply get(Call c) {
    RunRow row = owned(c, c.path("id"));
    RunState s = runs.state(row.runId());
    // The row read for the tenant check gives updated_at, unless the run moved on in between.
    Optional<RunRow> current =
        s.lastSeq() == row.lastSeq() ? Optional.of(row) : store.row(row.runId());
    return Reply.ok(Wire.run(s, current));
  }

  Reply events(Call c) throws InterruptedException {
    RunRow row = owned(c, c.path("id"));
    String lastId = c.ctx().header("Last-Event-ID");
    long after;
    if (lastId != null && !lastId.isBlank()) {
      try {
        after = Long.parseLong(lastId.strip());
        if (after < 0) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException x) {
        throw ApiException.invalid(
            "Last-Event-ID", "must be the sequence number of an event, got '" + lastId + "'");
      }
    } else {
      after = c.queryLong("after", 0, 0, Long.MAX_VALUE);
    }
    String accept = Optional.ofNullable(c.ctx().header("Accept")).orElse("");
    if (accept.contains("text/event-stream")) {
      streams.stream(c.ctx().res(), c.key().id(), row.runId(), after);
      return ApiServer.STREAMED;
    }
    int limit = (int) c.queryLong("limit", 100, 1, 1000);
    List<EventEnvelope> page = store.events(row.runId(), after, limit + 1);
    boolean more = page.size() > limit;
    List<JsonValue> data = new ArrayList<>();
    long last = after;
    for (EventEnvelope e : page.subList(0, Math.min(limit, page.size()))) {
      data.add(Wire.event(e));
      last = e.seq();
    }
    return Reply.ok(JsonValue.object("data", data, "has_more", more, "next_after", last));
  }

  Reply await(Call c) throws InterruptedException {
    RunRow row = owned(c, c.path("id"));
    long timeout = c.queryLong("timeout_s", 30, 0, 300);
    long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
    long sleep = 10;
    while (true) {
      RunState s = runs.state(row.runId());
      long signals = store.row(row.runId()).map(RunRow::signalSeq).orElse(0L);
      boolean settled =
          s.status().terminal()
              || ((s.status() == RunStatus.WAITING || s.status() == RunStatus.PAUSED)
                  && signals <= s.signalsConsumed());
      if (settled || System.nanoTime() >= deadline) {
        return Reply.ok(Wire.run(s, store.row(row.runId())));
      }
      Thread.sleep(sleep);
      sleep = Math.min(200, sleep * 2);
    }
  }

  Reply cancel(Call c) {
    RunRow row = owned(c, c.path("id"));
    Fields f = Fields.of(c.json(), Set.of("reason"));
    String reason = f.string("reason", 2000).orElse("cancelled by " + c.key().id());
    f.check();
    return signal(c, row, new SignalPayload.Cancel(reason, c.key().id()));
  }

  Reply pause(Call c) {
    RunRow row = owned(c, c.path("id"));
    Fields.of(c.json(), Set.of()).check();
    return signal(c, row, new SignalPayload.Pause(c.key().id()));
  }

  Reply resume(Call c) {
    RunRow row = owned(c, c.path("id"));
    JsonObject body = c.json();
    Fields.of(body, Set.of("input")).check();
    JsonValue input = body.get("input").orElse(JsonValue.NULL);
    // A run that asks a question (keel.ask_person) takes the input as the answer.
    if (!input.equals(JsonValue.NULL)
        && runs.answer(c.tenant(), row.runId(), input, c.key().id()).isPresent()) {
      return new Reply(202, runJson(row.runId()));
    }
    return signal(c, row, new SignalPayload.Resume(input, c.key().id()));
  }

  Reply plan(Call c) {
    RunRow row = owned(c, c.path("id"));
    JsonObject body = c.json();
    Fields.of(body, Set.of("steps")).check();
    try {
      dev.keel.run.Plan.readSteps(body);
    } catch (IllegalArgumentException x) {
      throw new ApiException(400, "invalid_argument", "Invalid plan", x.getMessage());
    }
    return signal(c, row, new SignalPayload.PlanEdit(body, c.key().id()));
  }

  Reply message(Call c) {
    RunRow row = owned(c, c.path("id"));
    Fields f = Fields.of(c.json(), Set.of("content"));
    String content = f.requiredString("content", 100_000);
    f.check();
    return signal(c, row, new SignalPayload.UserMessage(content, c.key().id()));
  }

  private Reply signal(Call c, RunRow row, SignalPayload payload) {
    // what a person typed is stored redacted, like run input (decision 0052)
    Optional<Long> seq =
        store.signal(c.tenant(), row.runId(), payload.redacted(engine.redaction()));
    if (seq.isEmpty()) {
      RunStatus now = store.row(row.runId()).map(RunRow::status).orElse(row.status());
      throw new ApiException(
          409,
          "run_terminal",
          "Run has ended",
          "run "
              + row.runId()
              + " has already ended ("
              + now.wire()
              + "); it takes no more "
              + payload.kind()
              + " requests");
    }
    return new Reply(202, runJson(row.runId()));
  }

  Reply fork(Call c) {
    RunRow row = owned(c, c.path("id"));
    JsonObject body = c.json();
    Fields f = Fields.of(body, Set.of("checkpoint_step", "overrides"));
    if (body.get("checkpoint_step").isEmpty()) {
      f.error("checkpoint_step", "is required; GET /v1/runs/{id}/checkpoints lists the steps");
    }
    long step = f.integer("checkpoint_step", 0, Integer.MAX_VALUE).orElse(0L);
    Optional<Fields> o =
        f.nested("overrides", Set.of("instruction", "budget", "agent_version", "metadata"));
    Optional<String> instruction = o.flatMap(x -> x.string("instruction", 100_000));
    Optional<String> version = o.flatMap(x -> x.string("agent_version", 64));
    JsonObject metadata = o.flatMap(x -> x.object("metadata")).orElse(JsonValue.EMPTY_OBJECT);
    Budget current = header(row.runId()).budget();
    Optional<Budget> budget = o.flatMap(x -> budget(x, current));
    f.check();
    CreateResult r;
    try {
      r =
          runs.fork(
              c.tenant(),
              row.runId(),
              (int) step,
              new Runs.ForkOverrides(instruction, budget, version, metadata),
              Optional.of(c.key().id()));
    } catch (IllegalArgumentException x) {
      throw ApiException.invalid("/checkpoint_step", String.valueOf(x.getMessage()));
    }
    return new Reply(201, runJson(r.runId()));
  }

  Reply checkpoints(Call c) {
    RunRow row = owned(c, c.path("id"));
    List<JsonValue> data = new ArrayList<>();
    store.checkpoints(row.runId()).forEach(cp -> data.add(Wire.checkpoint(cp)));
    return Reply.ok(JsonValue.object("data", data));
  }

  /** Runs of the caller's tenant in {@code threadId}, oldest first. */
  List<RunRow> thread(Call c, String threadId) {
    List<RunRow> out = new ArrayList<>();
    RunQuery.Filter f =
        new RunQuery.Filter(c.tenant(), Optional.empty(), Optional.empty(), Optional.of(threadId));
    Optional<RunQuery.Position> after = Optional.empty();
    do {
      RunQuery.Page page = query.list(f, after, 100);
      out.addAll(page.rows());
      after = page.next();
    } while (after.isPresent() && out.size() < 10_000);
    out.sort(Comparator.comparing(RunRow::createdAt).thenComparing(RunRow::runId));
    if (out.isEmpty()) {
      throw ApiException.notFound("thread", threadId);
    }
    return out;
  }

  Reply threadGet(Call c) {
    String id = c.path("id");
    List<RunRow> rows = thread(c, id);
    RunRow latest = rows.getLast();
    return Reply.ok(
        JsonValue.object(
            "id", id,
            "run_ids", rows.stream().map(r -> (JsonValue) JsonValue.of(r.runId().value())).toList(),
            "latest_run_id", latest.runId().value(),
            "status", latest.status().wire(),
            "created_at", rows.getFirst().createdAt().toString(),
            "updated_at", latest.updatedAt().toString()));
  }

  Reply threadRuns(Call c) {
    List<JsonValue> data = new ArrayList<>();
    for (RunRow r : thread(c, c.path("id"))) {
      data.add(runJson(r.runId()));
    }
    return Reply.ok(JsonValue.object("data", data));
  }
}
