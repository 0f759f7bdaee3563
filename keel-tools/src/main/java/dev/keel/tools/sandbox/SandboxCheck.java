package dev.keel.tools.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Probes whether CLI tools can be sandboxed on this machine, and says why not and how to fix it.
 * {@code keel doctor} prints {@link Status#report()}; {@link SandboxedCliTool} refuses to run tools
 * above risk level 0 when the status is not available.
 */
public final class SandboxCheck {

  /**
   * What the probe found.
   *
   * @param available whether sandboxed commands can run
   * @param problems what is missing, one line each
   * @param fix what to do about it
   */
  public record Status(boolean available, List<String> problems, String fix) {
    /** Copies the problems. */
    public Status {
      problems = List.copyOf(problems);
    }

    /** A human-readable summary, one line per finding. */
    public String report() {
      if (available) {
        return "sandbox: available (bubblewrap with all namespaces, seccomp, rlimits)";
      }
      return "sandbox: NOT available\n  - " + String.join("\n  - ", problems) + "\n  fix: " + fix;
    }
  }

  /** The fix every missing piece comes down to on Debian and Ubuntu. */
  public static final String FIX =
      "install bubblewrap and util-linux (Debian/Ubuntu: apt-get install -y bubblewrap"
          + " util-linux), allow unprivileged user namespaces"
          + " (sysctl kernel.unprivileged_userns_clone=1 where that knob exists), and run on"
          + " x86-64 Linux; CLI tools above risk level 0 refuse to run until then";

  private SandboxCheck() {}

  /** Probes with the standard binaries. */
  public static Status probe() {
    return probe(Bubblewrap.standard());
  }

  /** Probes {@code sandbox}: binaries present, and a trivial command runs inside it. */
  public static Status probe(Bubblewrap sandbox) {
    List<String> problems = new ArrayList<>();
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      problems.add("not Linux: bubblewrap needs Linux namespaces");
    }
    if (!SeccompFilter.supported()) {
      problems.add(
          "seccomp filter is built for x86-64 only; this is " + System.getProperty("os.arch"));
    }
    for (Path p : List.of(sandbox.bwrap(), sandbox.prlimit(), sandbox.setpriv())) {
      if (!Files.isExecutable(p)) {
        problems.add(p + " is missing or not executable");
      }
    }
    if (problems.isEmpty()) {
      String trial = trialRun(sandbox);
      if (!trial.isEmpty()) {
        problems.add("a trial command in the sandbox failed: " + trial);
      }
    }
    return new Status(problems.isEmpty(), problems, problems.isEmpty() ? "" : FIX);
  }

  private static String trialRun(Bubblewrap sandbox) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("keel-sandbox-probe");
      Workspaces.prepare(dir, sandbox);
      Path filter = dir.resolveSibling(dir.getFileName() + ".bpf");
      Files.write(filter, SeccompFilter.program(false));
      CliToolConfig cfg =
          new CliToolConfig(
              List.of("/usr/bin/true"), false, SandboxLimits.DEFAULT, Map.of(), List.of());
      ProcessBuilder pb = new ProcessBuilder(sandbox.command(cfg, dir, List.of("/usr/bin/true")));
      pb.environment().clear();
      pb.redirectInput(filter.toFile());
      pb.redirectErrorStream(true);
      Process p = pb.start();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "timed out after 20 s";
      }
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      Files.deleteIfExists(filter);
      return p.exitValue() == 0 ? "" : "exit " + p.exitValue() + ": " + out.strip();
    } catch (IOException e) {
      return e.getMessage() == null ? e.toString() : e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } finally {
      if (dir != null) {
        try {
          Files.deleteIfExists(dir);
        } catch (IOException e) {
          // a leftover empty probe directory in the temp dir is harmless
        }
      }
    }
  }
}
