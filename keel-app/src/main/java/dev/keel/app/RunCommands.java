package dev.keel.app;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Commands about runs: run, runs, status, logs, resume, pause, cancel. */
final class RunCommands {
  private RunCommands() {}

  static JsonObject readJsonFile(Path file, String option) {
    try {
      return JsonParser.parseObject(Files.readString(file), JsonLimits.UNTRUSTED);
    } catch (IOException x) {
      throw new CliException(
          CliException.USAGE, option + " " + file + " cannot be read: " + x.getMessage());
    } catch (RuntimeException x) {
      throw new CliException(
          CliException.USAGE, option + " " + file + " is not a JSON object: " + x.getMessage());
    }
  }

  /** Waits until the run ends or needs a person, in slices the server allows. */
  static JsonObject await(ApiClient c, String runId, long timeoutSeconds) {
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    while (true) {
      long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000_000L);
      JsonObject r =
          c.post(
              "/v1/runs/" + runId + "/wait?timeout_s=" + Math.min(left, 25),
              JsonValue.EMPTY_OBJECT);
      String s = r.string("status").orElse("");
      if ((!s.equals("queued") && !s.equals("running")) || left == 0) {
        return r;
      }
    }
  }

  /** Prints a settled run and the approvals it waits on; returns its exit code. */
  static int report(Ctx ctx, Ctx.Global g, ApiClient c, JsonObject run) {
    StringBuilder text = new StringBuilder(Render.run(run));
    for (JsonValue id :
        run.get("pending_approvals")
            .filter(JsonValue.JsonArray.class::isInstance)
            .map(a -> ((JsonValue.JsonArray) a).items())
            .orElse(java.util.List.of())) {
      String apr = ((JsonValue.JsonString) id).value();
      text.append("\n  waiting for approval ")
          .append(Render.approval(c.get("/v1/approvals/" + apr)));
    }
    ctx.print(g, run, text.toString());
    return Render.exitFor(run);
  }

  /** Shows live progress until the run ends or needs a person; returns the exit code. */
  static int follow(Ctx ctx, Ctx.Global g, ApiClient c, String runId) {
    AtomicLong costMicros = new AtomicLong();
    Map<String, String> tools = new java.util.HashMap<>();
    c.follow(
        runId,
        0,
        (type, e) -> {
          JsonObject d = Render.obj(e, "data");
          if (g.json()) {
            ctx.out.println(e);
          } else {
            if (type.equals("tool.proposed")) {
              tools.put(Render.str(d, "call_id"), Render.str(d, "tool"));
            }
            String line = progress(type, d, costMicros, tools);
            if (!line.isEmpty()) {
              ctx.out.println(line);
            }
          }
          ctx.out.flush();
          return !(type.equals("run.waiting")
              || type.equals("run.paused")
              || type.startsWith("run.completed")
              || type.equals("run.failed")
              || type.equals("run.cancelled")
              || type.equals("run.timed_out")
              || type.equals("server.closing"));
        });
    JsonObject run = c.get("/v1/runs/" + runId);
    if (!g.json()) {
      return report(ctx, g, c, run);
    }
    return Render.exitFor(run);
  }

  private static String progress(
      String type, JsonObject d, AtomicLong cost, Map<String, String> tools) {
    return switch (type) {
      case "run.created" ->
          "created run (agent " + Render.str(Render.obj(d, "agent"), "name") + ")";
      case "run.started" -> "started";
      case "model.requested" ->
          "step " + Render.str(d, "step") + ": planning (model " + Render.str(d, "model") + ")";
      case "model.responded" -> {
        cost.addAndGet(
            d.get("cost_micros").map(v -> ((JsonValue.JsonNumber) v).longValueExact()).orElse(0L));
        JsonObject resp = Render.obj(d, "response");
        String text = Render.str(resp, "text");
        yield "step "
            + Render.str(d, "step")
            + ": model answered"
            + (text.isEmpty() ? "" : ": " + text)
            + "   cost so far $"
            + BigDecimal.valueOf(cost.get(), 6).stripTrailingZeros().toPlainString();
      }
      case "tool.proposed" ->
          "next: "
              + Render.str(d, "tool")
              + " "
              + Render.str(d, "arguments")
              + " -> "
              + Render.str(d, "verdict");
      case "approval.requested" ->
          "needs approval "
              + Render.str(d, "approval_id")
              + ": "
              + Render.str(d, "tool")
              + " "
              + Render.str(d, "arguments")
              + " (risk "
              + Render.str(d, "risk_level")
              + ")";
      case "approval.resolved" ->
          "approval " + Render.str(d, "approval_id") + " " + Render.str(d, "decision");
      case "tool.started" -> "running " + Render.str(d, "tool");
      case "tool.succeeded" ->
          tools.getOrDefault(Render.str(d, "call_id"), Render.str(d, "call_id")) + " succeeded";
      case "tool.failed" ->
          tools.getOrDefault(Render.str(d, "call_id"), Render.str(d, "call_id"))
              + " failed: "
              + Render.str(Render.obj(d, "error"), "message");
      case "run.waiting" -> "waiting: " + Render.str(d, "reason");
      case "run.completed", "run.failed", "run.cancelled", "run.timed_out", "run.paused" ->
          type.substring(4);
      default -> "";
    };
  }

  @Command(
      name = "run",
      description = "Start a run of AGENT with a goal.",
      mixinStandardHelpOptions = true)
  static final class Run implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Parameters(index = "0", paramLabel = "AGENT")
    String agent = "";

    @Parameters(index = "1", paramLabel = "GOAL", arity = "0..1")
    Optional<String> goal = Optional.empty();

    @Option(names = "--input", paramLabel = "FILE", description = "JSON input object")
    Optional<Path> input = Optional.empty();

    @Option(names = "--follow", description = "show live progress")
    boolean follow;

    @Option(names = "--wait", description = "wait until it ends or needs a person")
    boolean await;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600")
    long timeout = 600;

    private final Ctx ctx;

    Run(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      JsonObject in = input.map(f -> readJsonFile(f, "--input")).orElse(JsonValue.EMPTY_OBJECT);
      if (goal.isPresent()) {
        in = in.with("goal", JsonValue.of(goal.get()));
      }
      if (in.members().isEmpty()) {
        throw new CliException(
            CliException.USAGE,
            "give a goal: keel run " + agent + " \"what to do\" (or --input FILE)");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("agent", agent);
      body.put("input", in);
      body.put("channel", "cli");
      try (Session s = Session.open(ctx, g)) {
        JsonObject run = s.client.post("/v1/runs", (JsonObject) JsonValue.from(body));
        String id = Render.str(run, "id");
        if (follow) {
          return follow(ctx, g, s.client, id);
        }
        if (await || s.embedded.isPresent()) {
          return report(ctx, g, s.client, await(s.client, id, timeout));
        }
        ctx.print(g, run, id);
        return 0;
      }
    }
  }

  @Command(name = "runs", description = "List runs.", mixinStandardHelpOptions = true)
  static final class Runs implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Option(names = "--status", paramLabel = "S")
    Optional<String> status = Optional.empty();

    @Option(names = "--limit", defaultValue = "20")
    int limit = 20;

    private final Ctx ctx;

    Runs(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        JsonObject page =
            s.client.get("/v1/runs?limit=" + limit + status.map(x -> "&status=" + x).orElse(""));
        StringBuilder text = new StringBuilder();
        for (JsonValue r : Render.data(page)) {
          text.append(Render.run((JsonObject) r).lines().findFirst().orElse("")).append('\n');
        }
        ctx.print(g, page, text.isEmpty() ? "no runs" : text.toString().stripTrailing());
        return 0;
      }
    }
  }

  @Command(name = "status", description = "Show a run.", mixinStandardHelpOptions = true)
  static final class Status implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Parameters(paramLabel = "RUN")
    String run = "";

    private final Ctx ctx;

    Status(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        return report(ctx, g, s.client, s.client.get("/v1/runs/" + run));
      }
    }
  }

  @Command(name = "logs", description = "Show a run's events.", mixinStandardHelpOptions = true)
  static final class Logs implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Parameters(paramLabel = "RUN")
    String run = "";

    @Option(names = "--follow", description = "keep printing new events until the run ends")
    boolean follow;

    private final Ctx ctx;

    Logs(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        if (follow) {
          s.client.follow(
              run,
              0,
              (type, e) -> {
                ctx.out.println(g.json() ? e.toString() : Render.event(e));
                ctx.out.flush();
                return !type.equals("server.closing");
              });
          return 0;
        }
        long after = 0;
        while (true) {
          JsonObject page = s.client.get("/v1/runs/" + run + "/events?limit=1000&after=" + after);
          for (JsonValue e : Render.data(page)) {
            ctx.out.println(g.json() ? e.toString() : Render.event((JsonObject) e));
          }
          after = Long.parseLong(Render.str(page, "next_after"));
          if (!Render.str(page, "has_more").equals("true")) {
            break;
          }
        }
        ctx.out.flush();
        return 0;
      }
    }
  }

  /** resume, pause and cancel: one signal each. */
  abstract static class Signal implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Parameters(paramLabel = "RUN")
    String run = "";

    final Ctx ctx;

    Signal(Ctx ctx) {
      this.ctx = ctx;
    }

    abstract String verb();

    abstract JsonObject body();

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        JsonObject r = s.client.post("/v1/runs/" + run + "/" + verb(), body());
        if (s.embedded.isPresent()) {
          r = await(s.client, run, 60);
        }
        report(ctx, g, s.client, r);
        return 0;
      }
    }
  }

  @Command(
      name = "resume",
      description = "Resume a paused or waiting run.",
      mixinStandardHelpOptions = true)
  static final class Resume extends Signal {
    @Option(names = "--input", paramLabel = "TEXT", description = "an answer or new input")
    Optional<String> input = Optional.empty();

    Resume(Ctx ctx) {
      super(ctx);
    }

    @Override
    String verb() {
      return "resume";
    }

    @Override
    JsonObject body() {
      return input.map(i -> JsonValue.object("input", i)).orElse(JsonValue.EMPTY_OBJECT);
    }
  }

  @Command(
      name = "pause",
      description = "Pause a run at its next step.",
      mixinStandardHelpOptions = true)
  static final class Pause extends Signal {
    Pause(Ctx ctx) {
      super(ctx);
    }

    @Override
    String verb() {
      return "pause";
    }

    @Override
    JsonObject body() {
      return JsonValue.EMPTY_OBJECT;
    }
  }

  @Command(name = "cancel", description = "Cancel a run.", mixinStandardHelpOptions = true)
  static final class Cancel extends Signal {
    @Option(names = "--reason", paramLabel = "R")
    Optional<String> reason = Optional.empty();

    Cancel(Ctx ctx) {
      super(ctx);
    }

    @Override
    String verb() {
      return "cancel";
    }

    @Override
    JsonObject body() {
      return reason.map(r -> JsonValue.object("reason", r)).orElse(JsonValue.EMPTY_OBJECT);
    }
  }
}
