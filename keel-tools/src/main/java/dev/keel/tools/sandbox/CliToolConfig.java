package dev.keel.tools.sandbox;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A command-line tool as declared in configuration.
 *
 * @param argv the command: an absolute executable path, then arguments; an element that is exactly
 *     {@code {name}} is replaced by that argument's value as one argv element, and {@code {name*}}
 *     by the elements of an array argument. Never through a shell: a value with spaces, quotes,
 *     {@code ;} or {@code $(...)} is one inert argument
 * @param network whether the command may use the network (off by default)
 * @param limits resource limits
 * @param env the complete environment inside the sandbox (nothing else is inherited)
 * @param readOnlyPaths extra host paths bound read-only, at the same place, besides {@code /usr}
 */
public record CliToolConfig(
    List<String> argv,
    boolean network,
    SandboxLimits limits,
    Map<String, String> env,
    List<String> readOnlyPaths) {

  static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)(\\*?)\\}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]*");

  /** Validates the declaration. */
  public CliToolConfig {
    argv = List.copyOf(Objects.requireNonNull(argv, "argv"));
    if (argv.isEmpty() || !argv.get(0).startsWith("/") || argv.get(0).contains("{")) {
      throw new IllegalArgumentException(
          "cli.argv must start with an absolute executable path, got " + argv);
    }
    Objects.requireNonNull(limits, "limits");
    env = Map.copyOf(Objects.requireNonNull(env, "env"));
    env.keySet()
        .forEach(
            k -> {
              if (!ENV_NAME.matcher(k).matches()) {
                throw new IllegalArgumentException("cli.env name '" + k + "' is not valid");
              }
            });
    readOnlyPaths = List.copyOf(Objects.requireNonNull(readOnlyPaths, "readOnlyPaths"));
    for (String p : readOnlyPaths) {
      if (!p.startsWith("/") || p.contains("..")) {
        throw new IllegalArgumentException("cli.readOnlyPaths entry '" + p + "' must be absolute");
      }
    }
  }

  /** A command with default limits, no network and only {@code PATH} in its environment. */
  public static CliToolConfig of(String... argv) {
    return new CliToolConfig(
        List.of(argv), false, SandboxLimits.DEFAULT, Map.of("PATH", "/usr/bin:/bin"), List.of());
  }
}
