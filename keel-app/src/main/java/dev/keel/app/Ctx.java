package dev.keel.app;

import dev.keel.json.JsonValue;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** What every command shares: its streams, the environment and the global options. */
final class Ctx {
  final PrintWriter out;
  final PrintWriter err;
  final Map<String, String> env;

  Ctx(PrintWriter out, PrintWriter err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /** Options every command takes. */
  static final class Global {
    @Option(
        names = "--output",
        description = "text (default) or json",
        defaultValue = "text",
        paramLabel = "FORMAT")
    String output = "text";

    @Option(names = "--config", description = "YAML configuration file", paramLabel = "FILE")
    Optional<Path> config = Optional.empty();

    @Option(
        names = "--server",
        description = "URL of a Keel server (or KEEL_SERVER); default: local",
        paramLabel = "URL")
    Optional<String> server = Optional.empty();

    boolean json() {
      return output.equals("json");
    }
  }

  /** The configuration named by {@code g} and the environment. */
  KeelConfig config(Global g) {
    if (!g.output.equals("text") && !g.output.equals("json")) {
      throw new CliException(CliException.USAGE, "--output must be text or json, got " + g.output);
    }
    Optional<Path> file =
        g.config.or(() -> Optional.ofNullable(env.get("KEEL_CONFIG")).map(Path::of));
    return ConfigLoader.load(file, env);
  }

  /** The API key for the CLI: {@code KEEL_API_KEY}, else the admin key file of the data folder. */
  String token(KeelConfig cfg) {
    String k = env.get("KEEL_API_KEY");
    if (k != null && !k.isBlank()) {
      return k.strip();
    }
    Path file = KeelRuntime.adminKeyFile(cfg);
    try {
      return Files.readString(file).strip();
    } catch (java.io.IOException x) {
      throw new CliException(
          CliException.USAGE,
          "no API key: set KEEL_API_KEY, or run 'keel serve' once so it writes "
              + file
              + " (the data folder is home / KEEL_HOME)");
    }
  }

  /** Prints {@code json} in JSON mode, or {@code text} otherwise. */
  void print(Global g, JsonValue json, String text) {
    out.println(g.json() ? json.toString() : text);
    out.flush();
  }
}
