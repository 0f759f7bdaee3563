package dev.keel.tools.sandbox;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.ContractedTool;
import dev.keel.tools.ToolContract;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.stream.Stream;

/**
 * A command-line tool run inside a bubblewrap sandbox (see {@link Bubblewrap}) in a per-run
 * workspace.
 *
 * <p>Implementation notes: arguments become argv elements, never a shell string. The sandbox status
 * is probed once at construction; without a sandbox a tool above risk level 0 refuses every call
 * with {@code sandbox_unavailable}, saying why and how to fix it, while a level-0 tool runs with
 * the rlimits and the cleared environment only. Stdout and stderr are read on virtual threads into
 * a shared cap; going over it kills the process tree. On timeout or interruption the whole tree is
 * killed: every descendant and the bwrap process itself, whose death takes the sandbox's PID
 * namespace (and any daemon left in it) down. The result records the command, exit code, stdout,
 * stderr, duration and the workspace files created, modified or deleted.
 */
public final class SandboxedCliTool implements ContractedTool {
  private static final int MAX_LISTED_CHANGES = 500;

  private final ToolContract contract;
  private final CliToolConfig config;
  private final Bubblewrap sandbox;
  private final SandboxCheck.Status status;
  private final Path workspaceRoot;
  private final Path filter;

  /**
   * Creates a sandboxed CLI tool.
   *
   * @param workspaceRoot the directory under which per-run workspaces are created; as root it is
   *     made traversable (mode 711) for the sandbox user, and its parents must be too
   * @param status the sandbox probe result ({@link SandboxCheck#probe(Bubblewrap)})
   */
  public SandboxedCliTool(
      ToolContract contract,
      CliToolConfig config,
      Bubblewrap sandbox,
      SandboxCheck.Status status,
      Path workspaceRoot) {
    this.contract = Objects.requireNonNull(contract, "contract");
    this.config = Objects.requireNonNull(config, "config");
    this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
    this.status = Objects.requireNonNull(status, "status");
    this.workspaceRoot = Objects.requireNonNull(workspaceRoot, "workspaceRoot");
    try {
      Files.createDirectories(workspaceRoot);
      if (Bubblewrap.runningAsRoot()) {
        // the sandbox user must traverse the root to reach its own run directory
        Files.setPosixFilePermissions(workspaceRoot, PosixFilePermissions.fromString("rwx--x--x"));
      }
      Path dir = Files.createTempDirectory("keel-seccomp");
      this.filter = dir.resolve(contract.name() + ".bpf");
      Files.write(filter, SeccompFilter.program(config.network()));
      Files.setPosixFilePermissions(filter, PosixFilePermissions.fromString("r--------"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the sandbox for " + contract.name(), e);
    }
  }

  @Override
  public ToolContract contract() {
    return contract;
  }

  @Override
  public ToolResult invoke(ToolInvocation inv) throws InterruptedException {
    if (!status.available() && contract.spec().riskLevel() > 0) {
      return new ToolResult.Failure(
          "sandbox_unavailable",
          false,
          contract.name()
              + " (risk level "
              + contract.spec().riskLevel()
              + ") refuses to run without a sandbox: "
              + String.join("; ", status.problems()),
          "Tell an operator to " + status.fix() + " (run 'keel doctor' to check).");
    }
    List<String> toolArgv;
    try {
      toolArgv = argv(inv.arguments());
    } catch (IllegalArgumentException e) {
      return new ToolResult.Failure(
          "invalid_arguments", false, e.getMessage(), "Fix the arguments and call again.");
    }
    Path workspace;
    Map<String, String> before;
    try {
      workspace = Workspaces.forRun(workspaceRoot, inv.tenant(), inv.runId(), sandbox);
      before = snapshot(workspace);
    } catch (IOException e) {
      return new ToolResult.Failure(
          "workspace_error", true, "cannot prepare the workspace: " + e.getMessage(), "Retry.");
    }
    List<String> command =
        status.available() ? sandbox.command(config, workspace, toolArgv) : unsandboxed(toolArgv);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().clear();
    if (!status.available()) {
      pb.environment().putAll(config.env());
    }
    pb.directory(workspace.toFile());
    pb.redirectInput(status.available() ? filter.toFile() : new java.io.File("/dev/null"));
    long start = System.nanoTime();
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      return new ToolResult.Failure(
          "spawn_failed", false, "cannot start " + toolArgv.get(0) + ": " + e.getMessage(), "");
    }
    Run run = new Run(process, config.limits().maxOutputBytes());
    String killed = "";
    try {
      boolean exited = process.waitFor(contract.spec().timeout().toMillis(), TimeUnit.MILLISECONDS);
      if (!exited) {
        killed = "timeout";
        killTree(process);
      } else if (run.overflow.get() != null) {
        killed = "output_limit";
      }
    } catch (InterruptedException e) {
      killTree(process);
      throw e;
    } finally {
      run.join();
    }
    if (killed.isEmpty() && run.overflow.get() != null) {
      killed = "output_limit";
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    List<JsonValue> changes;
    try {
      changes = diff(before, snapshot(workspace));
    } catch (IOException e) {
      changes = List.of(JsonValue.object("error", "cannot list changes: " + e.getMessage()));
    }
    int exit = process.exitValue();
    JsonObject record =
        JsonValue.object(
            "command",
            toolArgv,
            "exit_code",
            exit,
            "stdout",
            run.text(run.stdout),
            "stderr",
            run.text(run.stderr),
            "output_truncated",
            run.overflow.get() != null,
            "duration_ms",
            took.toMillis(),
            "changed_files",
            new JsonValue.JsonArray(changes),
            "sandboxed",
            status.available());
    if (killed.equals("timeout")) {
      return new ToolResult.Failure(
          "timeout",
          contract.spec().idempotency().safeToRetry(),
          contract.name()
              + " was killed after "
              + contract.spec().timeout().toMillis()
              + " ms with its whole process tree: "
              + record,
          "Use a smaller input or a longer-running tool.");
    }
    if (killed.equals("output_limit")) {
      return new ToolResult.Success(record.with("killed", JsonValue.of("output_limit")));
    }
    return new ToolResult.Success(record);
  }

  private List<String> unsandboxed(List<String> toolArgv) {
    List<String> cmd = new ArrayList<>(sandbox.limitPrefix(config.limits()));
    cmd.addAll(toolArgv);
    return cmd;
  }

  /** Expands the argv template with the arguments, one argv element per value. */
  List<String> argv(JsonObject args) {
    List<String> out = new ArrayList<>();
    for (String element : config.argv()) {
      Matcher m = CliToolConfig.PLACEHOLDER.matcher(element);
      if (!m.matches()) {
        out.add(element);
        continue;
      }
      String name = m.group(1);
      JsonValue v = args.get(name).orElse(null);
      if (v == null) {
        continue;
      }
      if (m.group(2).equals("*")) {
        if (!(v instanceof JsonValue.JsonArray a)) {
          throw new IllegalArgumentException("/" + name + " must be an array");
        }
        for (int i = 0; i < a.items().size(); i++) {
          out.add(scalar(a.items().get(i), "/" + name + "/" + i));
        }
      } else {
        out.add(scalar(v, "/" + name));
      }
    }
    return out;
  }

  private static String scalar(JsonValue v, String pointer) {
    String s =
        switch (v) {
          case JsonValue.JsonString str -> str.value();
          case JsonValue.JsonNumber n -> n.value().toPlainString();
          case JsonValue.JsonBool b -> Boolean.toString(b.value());
          default ->
              throw new IllegalArgumentException(pointer + " must be a string, number or boolean");
        };
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(pointer + " must not contain NUL");
    }
    return s;
  }

  /** Kills every descendant and the process itself, then waits for it. */
  static void killTree(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    p.descendants().forEach(ProcessHandle::destroyForcibly);
  }

  /** The two output readers of one process, sharing one cap. */
  private static final class Run {
    final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    final AtomicReference<String> overflow = new AtomicReference<>();
    final AtomicInteger total = new AtomicInteger();
    final Process process;
    final int cap;
    final Thread out;
    final Thread err;

    Run(Process process, int cap) {
      this.process = process;
      this.cap = cap;
      this.out = Thread.ofVirtual().start(() -> pump(process.getInputStream(), stdout, "stdout"));
      this.err = Thread.ofVirtual().start(() -> pump(process.getErrorStream(), stderr, "stderr"));
    }

    private void pump(InputStream in, ByteArrayOutputStream sink, String name) {
      byte[] buf = new byte[8192];
      try (in) {
        int r;
        while ((r = in.read(buf)) >= 0) {
          int room = cap - total.get();
          if (room <= 0 || r > room) {
            sink.write(buf, 0, Math.max(0, room));
            total.addAndGet(Math.max(0, room));
            overflow.compareAndSet(null, name);
            killTree(process);
            return;
          }
          sink.write(buf, 0, r);
          total.addAndGet(r);
        }
      } catch (IOException e) {
        // the process was killed or closed its end; what was read so far is kept
      }
    }

    void join() throws InterruptedException {
      out.join(Duration.ofSeconds(10));
      err.join(Duration.ofSeconds(10));
    }

    String text(ByteArrayOutputStream b) {
      String s = b.toString(StandardCharsets.UTF_8);
      return overflow.get() != null ? s + "\n[output truncated at " + cap + " bytes]" : s;
    }
  }

  private static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        BasicFileAttributes a =
            Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isDirectory() || files.size() > 10_000) {
          continue;
        }
        files.put(
            root.relativize(p).toString(),
            a.size() + ":" + a.lastModifiedTime().toMillis() + ":" + a.isSymbolicLink());
      }
    }
    return files;
  }

  private static List<JsonValue> diff(Map<String, String> before, Map<String, String> after) {
    List<JsonValue> out = new ArrayList<>();
    for (Map.Entry<String, String> e : after.entrySet()) {
      String old = before.get(e.getKey());
      if (old == null) {
        out.add(JsonValue.object("path", e.getKey(), "change", "created"));
      } else if (!old.equals(e.getValue())) {
        out.add(JsonValue.object("path", e.getKey(), "change", "modified"));
      }
    }
    for (String k : before.keySet()) {
      if (!after.containsKey(k)) {
        out.add(JsonValue.object("path", k, "change", "deleted"));
      }
    }
    return out.size() > MAX_LISTED_CHANGES ? out.subList(0, MAX_LISTED_CHANGES) : out;
  }
}
