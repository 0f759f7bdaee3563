package dev.keel.tools.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds the command line that runs a tool's argv inside bubblewrap.
 *
 * <p>Implementation notes: the chain is {@code prlimit} (rlimits) → {@code setpriv} (only when Keel
 * runs as root: drop to a dedicated uid so RLIMIT_NPROC applies and nothing runs as root) → {@code
 * bwrap} with every namespace unshared (user, PID, network unless allowed, IPC, UTS, cgroup),
 * {@code --die-with-parent}, {@code --new-session}, all capabilities dropped, a minimal read-only
 * view of {@code /usr} (plus configured paths) with {@code /bin}, {@code /lib} and friends as
 * symlinks, a fresh {@code /proc}, {@code /dev} and private {@code /tmp}, the per-run workspace
 * bound writable at {@code /work}, the root remounted read-only, a cleared environment, and the
 * seccomp program read from stdin ({@code --seccomp 0}; the command therefore starts with stdin
 * closed). The caller also starts the chain with an empty environment, because bwrap's own PID-1
 * process would otherwise keep the host environment visible at {@code /proc/1/environ}.
 */
public final class Bubblewrap {
  /** Where the workspace appears inside the sandbox. */
  public static final String WORKDIR = "/work";

  private final Path bwrap;
  private final Path prlimit;
  private final Path setpriv;
  private final int sandboxUid;

  /**
   * Creates a builder.
   *
   * @param bwrap the bwrap binary
   * @param prlimit the prlimit binary (util-linux)
   * @param setpriv the setpriv binary (util-linux), used only when running as root
   * @param sandboxUid the uid commands run as when Keel runs as root; give each deployment its own
   *     so RLIMIT_NPROC counts only sandboxed processes
   */
  public Bubblewrap(Path bwrap, Path prlimit, Path setpriv, int sandboxUid) {
    this.bwrap = Objects.requireNonNull(bwrap, "bwrap");
    this.prlimit = Objects.requireNonNull(prlimit, "prlimit");
    this.setpriv = Objects.requireNonNull(setpriv, "setpriv");
    if (sandboxUid <= 0) {
      throw new IllegalArgumentException("sandboxUid must be a non-root uid, got " + sandboxUid);
    }
    this.sandboxUid = sandboxUid;
  }

  /** The standard Debian locations, sandbox uid 65534 (nobody). */
  public static Bubblewrap standard() {
    return new Bubblewrap(
        Path.of("/usr/bin/bwrap"), Path.of("/usr/bin/prlimit"), Path.of("/usr/bin/setpriv"), 65534);
  }

  /** The uid sandboxed commands run as when Keel is root. */
  public int sandboxUid() {
    return sandboxUid;
  }

  Path bwrap() {
    return bwrap;
  }

  Path prlimit() {
    return prlimit;
  }

  Path setpriv() {
    return setpriv;
  }

  /** Whether this process runs as root (uid 0), read from {@code /proc/self/status}. */
  public static boolean runningAsRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+", -1)[1].equals("0");
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** The rlimit prefix: prlimit with every limit, then (as root) setpriv to the sandbox uid. */
  List<String> limitPrefix(SandboxLimits l) {
    List<String> cmd = new ArrayList<>();
    cmd.add(prlimit.toString());
    cmd.add("--cpu=" + l.cpuSeconds());
    cmd.add("--as=" + l.memoryBytes());
    cmd.add("--nproc=" + l.maxProcesses());
    cmd.add("--fsize=" + l.maxFileBytes());
    cmd.add("--nofile=" + l.maxOpenFiles());
    cmd.add("--core=0");
    cmd.add("--");
    if (runningAsRoot()) {
      cmd.add(setpriv.toString());
      cmd.add("--reuid=" + sandboxUid);
      cmd.add("--regid=" + sandboxUid);
      cmd.add("--clear-groups");
      cmd.add("--");
    }
    return cmd;
  }

  /** The whole command line for {@code toolArgv} of {@code config} in {@code workspace}. */
  public List<String> command(CliToolConfig config, Path workspace, List<String> toolArgv) {
    List<String> cmd = new ArrayList<>(limitPrefix(config.limits()));
    cmd.add(bwrap.toString());
    cmd.add("--unshare-all");
    if (config.network()) {
      cmd.add("--share-net");
    }
    cmd.addAll(
        List.of(
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/sbin",
            "/sbin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp"));
    for (String p : config.readOnlyPaths()) {
      cmd.addAll(List.of("--ro-bind", p, p));
    }
    cmd.addAll(
        List.of(
            "--bind",
            workspace.toAbsolutePath().toString(),
            WORKDIR,
            "--remount-ro",
            "/",
            "--chdir",
            WORKDIR,
            "--clearenv"));
    config.env().forEach((k, v) -> cmd.addAll(List.of("--setenv", k, v)));
    cmd.addAll(List.of("--seccomp", "0", "--"));
    cmd.addAll(toolArgv);
    return cmd;
  }
}
