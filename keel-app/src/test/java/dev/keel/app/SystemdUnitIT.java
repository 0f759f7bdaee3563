package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts the ExecStart of {@code deploy/keel.service} the way systemd would: the environment from
 * its EnvironmentFile (no shell expansion), its WorkingDirectory, then SIGTERM and an exit status
 * the unit counts as success within TimeoutStopSec. systemd itself is not used (PID 1 of a test
 * machine is usually not systemd): the unit's paths are mapped into a temporary folder and the
 * launcher {@code /opt/keel/keel} into the packaged jar and classpath, as the launcher runs them.
 */
class SystemdUnitIT {
  @TempDir Path dir;

  static Map<String, String> unit(Path file) throws Exception {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#") || l.startsWith("[")) {
        continue;
      }
      int eq = l.indexOf('=');
      m.put(l.substring(0, eq), l.substring(eq + 1));
    }
    return m;
  }

  static Map<String, String> envFile(Path file) throws Exception {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      int eq = l.indexOf('=');
      assertThat(eq).as("line '" + l + "' of " + file + " is KEY=VALUE").isPositive();
      m.put(l.substring(0, eq), l.substring(eq + 1));
    }
    return m;
  }

  @Test
  void execStartRunsWithTheEnvFileAndStopsCleanlyOnSigterm() throws Exception {
    Path deploy = Path.of(System.getProperty("keel.deploy.dir"));
    Map<String, String> unit = unit(deploy.resolve("keel.service"));
    assertThat(unit.get("EnvironmentFile")).isEqualTo("/etc/keel/keel.env");
    assertThat(unit.get("KillSignal")).isEqualTo("SIGTERM");
    List<String> exec = Arrays.asList(unit.get("ExecStart").split(" "));
    assertThat(exec.getFirst()).isEqualTo("/opt/keel/keel");
    List<String> success = Arrays.asList(unit.get("SuccessExitStatus").split(" "));
    Duration stopTimeout = Duration.ofSeconds(Long.parseLong(unit.get("TimeoutStopSec")));

    Map<String, String> env = envFile(deploy.resolve("keel.env"));
    String workDir = unit.get("WorkingDirectory");
    Path work = Files.createDirectories(dir.resolve(workDir.substring(1)));
    env.put("KEEL_HOME", dir.resolve(env.get("KEEL_HOME").substring(1)).toString());
    int port = ChildKeel.freePort();
    env.put("KEEL_SERVER_PORT", Integer.toString(port));

    try (ChildKeel keel = new ChildKeel(work, env, List.of(), exec.subList(1, exec.size()))) {
      keel.awaitLine("Keel is listening on http://127.0.0.1:" + port, Duration.ofSeconds(60));
      ChildKeel.awaitReady("http://127.0.0.1:" + port, Duration.ofSeconds(30));
      assertThat(Files.exists(Path.of(env.get("KEEL_HOME"), "keel.db"))).isTrue();
      assertThat(keel.seen).anyMatch(l -> l.contains("Picked up JAVA_TOOL_OPTIONS"));
      int code = keel.terminate(stopTimeout);
      assertThat(code == 0 || success.contains(Integer.toString(code)))
          .as("exit " + code + " is a success for the unit (SuccessExitStatus=" + success + ")")
          .isTrue();
    }
  }
}
