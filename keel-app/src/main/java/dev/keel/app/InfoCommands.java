package dev.keel.app;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Read-only catalog commands: usage, agents, tools. */
final class InfoCommands {
  private InfoCommands() {}

  @Command(
      name = "usage",
      description =
          "Spend and calls grouped by a dimension over a time range, with cost per successful run.",
      mixinStandardHelpOptions = true)
  static final class Usage implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Option(
        names = "--by",
        defaultValue = "agent",
        description = "tenant, agent, model, tool, user, skill or prompt_version")
    String by = "agent";

    @Option(
        names = "--from",
        description = "only calls recorded at or after this RFC 3339 UTC time")
    @org.jspecify.annotations.Nullable
    String from;

    @Option(names = "--to", description = "only calls recorded before this RFC 3339 UTC time")
    @org.jspecify.annotations.Nullable
    String to;

    private final Ctx ctx;

    Usage(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        StringBuilder path = new StringBuilder("/v1/usage?group_by=").append(enc(by));
        if (from != null) {
          path.append("&from=").append(enc(from));
        }
        if (to != null) {
          path.append("&to=").append(enc(to));
        }
        JsonObject page = s.client.get(path.toString());
        StringBuilder text = new StringBuilder();
        for (JsonValue v : Render.data(page)) {
          JsonObject o = (JsonObject) v;
          text.append(
              String.format(
                  "%-24s model calls %-5s tool calls %-5s tokens %s/%s  $%s  runs %s (%s ok,"
                      + " $%s each)%n",
                  Render.str(o, by),
                  Render.str(o, "model_calls"),
                  Render.str(o, "tool_calls"),
                  Render.str(o, "input_tokens"),
                  Render.str(o, "output_tokens"),
                  Render.str(o, "cost_usd"),
                  Render.str(o, "runs"),
                  Render.str(o, "successful_runs"),
                  Render.str(o, "cost_per_successful_run_usd")));
        }
        ctx.print(g, page, text.isEmpty() ? "no usage yet" : text.toString().stripTrailing());
        return 0;
      }
    }
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  @Command(name = "agents", description = "List agents.", mixinStandardHelpOptions = true)
  static final class Agents implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();
    private final Ctx ctx;

    Agents(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        JsonObject page = s.client.get("/v1/agents");
        StringBuilder text = new StringBuilder();
        for (JsonValue v : Render.data(page)) {
          JsonObject a = (JsonObject) v;
          text.append(Render.str(a, "name"))
              .append("  v")
              .append(Render.str(a, "version"))
              .append("  model ")
              .append(Render.str(a, "model"))
              .append("  tools ")
              .append(Render.str(a, "tools"))
              .append('\n');
        }
        ctx.print(g, page, text.toString().stripTrailing());
        return 0;
      }
    }
  }

  @Command(name = "tools", description = "List tools.", mixinStandardHelpOptions = true)
  static final class Tools implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();
    private final Ctx ctx;

    Tools(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      try (Session s = Session.open(ctx, g)) {
        JsonObject page = s.client.get("/v1/tools");
        StringBuilder text = new StringBuilder();
        for (JsonValue v : Render.data(page)) {
          JsonObject t = (JsonObject) v;
          text.append(Render.str(t, "name"))
              .append("  risk ")
              .append(Render.str(t, "risk_level"))
              .append("  ")
              .append(Render.str(t, "description"))
              .append('\n');
        }
        ctx.print(g, page, text.toString().stripTrailing());
        return 0;
      }
    }
  }
}
