package dev.keel.app;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Commands about approvals: approvals, approve, deny. */
final class ApprovalCommands {
  private ApprovalCommands() {}

  @Command(
      name = "approvals",
      description = "List approvals (pending by default).",
      mixinStandardHelpOptions = true)
  static final class Approvals implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Option(
        names = "--status",
        defaultValue = "pending",
        description = "pending, approved, denied, expired or all")
    String status = "pending";

    private final Ctx ctx;

    Approvals(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        JsonObject page =
            s.client.get("/v1/approvals" + (status.equals("all") ? "" : "?status=" + status));
        StringBuilder text = new StringBuilder();
        for (JsonValue a : Render.data(page)) {
          text.append(Render.approval((JsonObject) a)).append('\n');
        }
        ctx.print(
            g,
            page,
            text.isEmpty() ? "no " + status + " approvals" : text.toString().stripTrailing());
        return 0;
      }
    }
  }

  /** approve and deny. */
  abstract static class Decide implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Parameters(paramLabel = "APPROVAL")
    String approval = "";

    final Ctx ctx;

    Decide(Ctx ctx) {
      this.ctx = ctx;
    }

    abstract String verb();

    abstract JsonObject body();

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        JsonObject a = s.client.post("/v1/approvals/" + approval + "/" + verb(), body());
        if (s.embedded.isPresent() || g.json()) {
          JsonObject run = RunCommands.await(s.client, Render.str(a, "run_id"), 60);
          if (!g.json()) {
            ctx.out.println(Render.approval(a));
            RunCommands.report(ctx, g, s.client, run);
            return 0;
          }
        }
        ctx.print(g, a, Render.approval(a));
        return 0;
      }
    }
  }

  @Command(
      name = "approve",
      description = "Approve a pending tool call.",
      mixinStandardHelpOptions = true)
  static final class Approve extends Decide {
    @Option(names = "--args", paramLabel = "FILE", description = "edited arguments (JSON object)")
    Optional<Path> args = Optional.empty();

    @Option(names = "--comment")
    Optional<String> comment = Optional.empty();

    Approve(Ctx ctx) {
      super(ctx);
    }

    @Override
    String verb() {
      return "approve";
    }

    @Override
    JsonObject body() {
      JsonObject b = JsonValue.EMPTY_OBJECT;
      if (args.isPresent()) {
        b = b.with("arguments", RunCommands.readJsonFile(args.get(), "--args"));
      }
      if (comment.isPresent()) {
        b = b.with("comment", JsonValue.of(comment.get()));
      }
      return b;
    }
  }

  @Command(
      name = "deny",
      description = "Deny a pending tool call.",
      mixinStandardHelpOptions = true)
  static final class Deny extends Decide {
    @Option(names = "--reason", required = true, paramLabel = "R")
    String reason = "";

    Deny(Ctx ctx) {
      super(ctx);
    }

    @Override
    String verb() {
      return "deny";
    }

    @Override
    JsonObject body() {
      return JsonValue.object("reason", reason);
    }
  }
}
