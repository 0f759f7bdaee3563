package dev.keel.tools.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.Availability;
import dev.keel.tools.ToolContract;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SE-15, SE-14 and FL-10 against the real sandbox: bubblewrap with every namespace, the seccomp
 * filter and rlimits. Needs {@code bubblewrap} installed; fails (never skips) without it.
 */
class SandboxEscapeIT {
  private static final int UID = 64123;
  private static final Bubblewrap SANDBOX =
      new Bubblewrap(
          Path.of("/usr/bin/bwrap"), Path.of("/usr/bin/prlimit"), Path.of("/usr/bin/setpriv"), UID);
  private static SandboxCheck.Status status;
  private static HttpServer canary;
  private static final AtomicInteger HITS = new AtomicInteger();

  @TempDir static Path root;

  @BeforeAll
  static void requireSandbox() throws IOException {
    status = SandboxCheck.probe(SANDBOX);
    assertThat(status.available())
        .as(
            "the sandbox tests need bubblewrap; CI must 'apt-get install -y bubblewrap'. "
                + status.report())
        .isTrue();
    canary =
        HttpServer.create(
            new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0), 10);
    canary.createContext(
        "/",
        ex -> {
          HITS.incrementAndGet();
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    canary.start();
  }

  @AfterAll
  static void stopCanary() {
    canary.stop(0);
  }

  private static SandboxedCliTool tool(CliToolConfig config, Duration timeout) {
    ToolContract c =
        ToolContract.builder("sbx.run")
            .riskLevel(1)
            .timeout(timeout)
            .availability(Availability.EVERYONE)
            .inputSchema(
                (JsonObject)
                    JsonParser.parse(
                        "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}"))
            .build();
    return new SandboxedCliTool(c, config, SANDBOX, status, root);
  }

  private static CliToolConfig cfg(SandboxLimits limits, boolean network, String... argv) {
    return new CliToolConfig(
        List.of(argv),
        network,
        limits,
        Map.of("PATH", "/usr/bin:/bin", "HOME", "/work"),
        List.of());
  }

  private static CliToolConfig cfg(String... argv) {
    return cfg(SandboxLimits.DEFAULT, false, argv);
  }

  private static ToolInvocation call(String tenant, JsonObject args) {
    return new ToolInvocation(tenant, "run_1", "c1", "k1", args, 1);
  }

  private static JsonObject run(CliToolConfig config) throws InterruptedException {
    ToolResult r =
        tool(config, Duration.ofSeconds(20)).invoke(call("acme", JsonValue.EMPTY_OBJECT));
    assertThat(r).isInstanceOf(ToolResult.Success.class);
    return (JsonObject) ((ToolResult.Success) r).data();
  }

  private static String out(JsonObject data) {
    return data.string("stdout").orElseThrow();
  }

  /** Live (non-zombie) processes of the sandbox uid, polled for up to one second. */
  private static long leftovers() throws IOException, InterruptedException {
    long n = 0;
    for (int i = 0; i < 20; i++) {
      n = liveSandboxProcesses();
      if (n == 0) {
        return 0;
      }
      Thread.sleep(50);
    }
    return n;
  }

  private static long liveSandboxProcesses() throws IOException {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(
              p -> {
                try {
                  List<String> st = Files.readAllLines(p.resolve("status"));
                  return st.stream()
                          .anyMatch(
                              l -> l.startsWith("Uid:") && l.split("\\s+", -1)[1].equals("" + UID))
                      && st.stream().noneMatch(l -> l.startsWith("State:") && l.contains("Z"));
                } catch (IOException e) {
                  return false;
                }
              })
          .count();
    }
  }

  @Test
  void recordsCommandExitOutputsDurationAndChangedFiles() throws Exception {
    JsonObject d =
        run(cfg("/usr/bin/bash", "-c", "echo out; echo err >&2; echo data > made.txt; exit 3"));
    assertThat(d.get("exit_code")).contains(JsonValue.of(3));
    assertThat(out(d)).isEqualTo("out\n");
    assertThat(d.string("stderr")).contains("err\n");
    assertThat(d.get("duration_ms")).isPresent();
    assertThat(d.get("changed_files").orElseThrow().toString())
        .contains("\"path\":\"made.txt\"")
        .contains("created");
    assertThat(d.get("sandboxed")).contains(JsonValue.TRUE);
  }

  @Test
  void shellMetacharactersInArgumentsStayInertArgv() throws Exception {
    String evil = "; touch pwned1 $(touch pwned2) `touch pwned3` ' OR 1=1 -- | rm -rf / &";
    ToolResult r =
        tool(cfg("/usr/bin/printf", "%s", "{text}"), Duration.ofSeconds(20))
            .invoke(call("acme", JsonValue.object("text", evil)));
    JsonObject d = (JsonObject) ((ToolResult.Success) r).data();
    assertThat(out(d)).isEqualTo(evil);
    assertThat(d.get("changed_files").orElseThrow().toString()).doesNotContain("pwned");
  }

  @Test
  void networkIsUnreachableAndTheCanaryStaysSilent() throws Exception {
    int port = canary.getAddress().getPort();
    String py =
        "import urllib.request\n"
            + "try:\n"
            + "  urllib.request.urlopen('http://127.0.0.1:"
            + port
            + "/', timeout=3); print('REACHED')\n"
            + "except Exception as e: print('blocked', type(e).__name__, e)\n"
            + "import socket\n"
            + "try:\n"
            + "  socket.socket(socket.AF_INET, socket.SOCK_STREAM); print('SOCKET')\n"
            + "except OSError as e: print('socket', e.errno)\n";
    JsonObject d = run(cfg("/usr/bin/python3", "-c", py));
    assertThat(out(d)).contains("blocked").contains("socket 1").doesNotContain("REACHED");
    assertThat(HITS).hasValue(0);
    JsonObject control = run(cfg(SandboxLimits.DEFAULT, true, "/usr/bin/python3", "-c", py));
    assertThat(out(control)).as("positive control with network allowed").contains("REACHED");
    assertThat(HITS).hasValue(1);
    HITS.set(0);
  }

  @Test
  void writesOutsideTheWorkspaceFail() throws Exception {
    JsonObject d =
        run(
            cfg(
                "/usr/bin/bash",
                "-c",
                "for f in /usr/keel-x /etc/keel-x /keel-x /proc/keel-x; do"
                    + " (echo x > $f) 2>/dev/null && echo WROTE $f || echo denied $f; done"));
    assertThat(out(d)).doesNotContain("WROTE");
    assertThat(Path.of("/usr/keel-x")).doesNotExist();
    assertThat(Path.of("/etc/keel-x")).doesNotExist();
    assertThat(Path.of("/keel-x")).doesNotExist();
  }

  @Test
  void hostSecretsOtherTenantsAndTheHostEnvironmentAreInvisible() throws Exception {
    Path secret = Files.createTempFile("keel-secret", ".env");
    Files.writeString(secret, "API_KEY=canary-4711");
    Path other = root.resolve("globex").resolve("run_1");
    Files.createDirectories(other);
    Files.writeString(other.resolve("theirs.txt"), "tenant globex data");
    JsonObject d =
        run(
            cfg(
                "/usr/bin/bash",
                "-c",
                "cat "
                    + secret
                    + " /root/.ssh/id_rsa /etc/shadow "
                    + other.resolve("theirs.txt")
                    + " ../../globex/run_1/theirs.txt 2>&1;"
                    + " tr '\\0' '\\n' < /proc/1/environ; echo ---; env"));
    String text = out(d);
    assertThat(text)
        .doesNotContain("canary-4711")
        .doesNotContain("tenant globex data")
        .doesNotContain("JAVA_HOME")
        .doesNotContain("HOME=/root")
        .doesNotContain("/root/.cargo");
    assertThat(text.substring(text.indexOf("---")))
        .contains("PATH=/usr/bin:/bin")
        .contains("HOME=/work");
    Files.delete(secret);
  }

  @Test
  void dangerousSyscallsFailWithEperm() throws Exception {
    String py =
        "import ctypes, os\n"
            + "libc = ctypes.CDLL(None, use_errno=True)\n"
            + "for name, nr in [('ptrace',101),('mount',165),('unshare',272),('keyctl',250),"
            + "('bpf',321),('setns',308),('userfaultfd',323)]:\n"
            + "  r = libc.syscall(nr, 0, 0, 0, 0, 0)\n"
            + "  print(name, r, ctypes.get_errno())\n";
    JsonObject d = run(cfg("/usr/bin/python3", "-c", py));
    assertThat(out(d).lines().toList()).hasSize(7).allSatisfy(l -> assertThat(l).endsWith(" -1 1"));
    JsonObject u = run(cfg("/usr/bin/unshare", "-r", "/usr/bin/true"));
    assertThat(u.get("exit_code")).isNotEqualTo(java.util.Optional.of(JsonValue.of(0)));
  }

  @Test
  void forkBombIsCappedAndNothingIsLeftBehind() throws Exception {
    SandboxLimits limits = new SandboxLimits(10, 512L << 20, 32, 1 << 20, 256, 1 << 16);
    long start = System.nanoTime();
    ToolResult r =
        tool(
                cfg(limits, false, "/usr/bin/bash", "-c", "f(){ f | f & }; f; sleep 30"),
                Duration.ofSeconds(3))
            .invoke(call("acme", JsonValue.EMPTY_OBJECT));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(r)
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("timeout"));
    assertThat(took).isLessThan(Duration.ofSeconds(3 + 3));
    assertThat(leftovers()).as("processes of the sandbox uid after the kill").isZero();
  }

  @Test
  void memoryAndCpuAreCapped() throws Exception {
    SandboxLimits small = new SandboxLimits(1, 256L << 20, 32, 1 << 20, 256, 1 << 16);
    JsonObject mem =
        run(
            cfg(
                small,
                false,
                "/usr/bin/python3",
                "-c",
                "x = bytearray(1 << 30); print('ALLOCATED')"));
    assertThat(out(mem)).doesNotContain("ALLOCATED");
    assertThat(mem.string("stderr").orElseThrow()).contains("MemoryError");
    long start = System.nanoTime();
    JsonObject cpu = run(cfg(small, false, "/usr/bin/bash", "-c", "while :; do :; done"));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    assertThat(cpu.get("exit_code")).isNotEqualTo(java.util.Optional.of(JsonValue.of(0)));
  }

  @Test
  void outputFloodIsTruncatedAndKilled() throws Exception {
    SandboxLimits limits = new SandboxLimits(10, 512L << 20, 32, 1 << 20, 256, 64 * 1024);
    JsonObject d = run(cfg(limits, false, "/usr/bin/yes", "flood"));
    assertThat(d.get("output_truncated")).contains(JsonValue.TRUE);
    assertThat(d.string("killed")).contains("output_limit");
    assertThat(out(d).length()).isLessThan(64 * 1024 + 100);
  }

  @Test
  void timeoutKillsTheTreeIncludingDaemons() throws Exception {
    JsonObject d =
        run(
            cfg(
                "/usr/bin/bash",
                "-c",
                "setsid /usr/bin/sleep 300 > /dev/null 2>&1 & echo started"));
    assertThat(out(d)).contains("started");
    assertThat(leftovers()).as("a daemon left behind").isZero();
    long start = System.nanoTime();
    ToolResult r =
        tool(
                cfg("/usr/bin/bash", "-c", "/usr/bin/sleep 300 & /usr/bin/sleep 300"),
                Duration.ofSeconds(1))
            .invoke(call("acme", JsonValue.EMPTY_OBJECT));
    assertThat(r)
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("timeout"));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    assertThat(leftovers()).isZero();
  }
}
