package dev.keel.tools.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.Availability;
import dev.keel.tools.ToolContract;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxedCliToolTest {
  @TempDir Path root;

  private static final SandboxCheck.Status MISSING =
      new SandboxCheck.Status(false, List.of("/usr/bin/bwrap is missing"), SandboxCheck.FIX);

  private SandboxedCliTool tool(int risk, CliToolConfig config) {
    return new SandboxedCliTool(
        ToolContract.builder("cli.echo")
            .riskLevel(risk)
            .availability(Availability.EVERYONE)
            .build(),
        config,
        Bubblewrap.standard(),
        MISSING,
        root);
  }

  private static ToolInvocation call(JsonValue.JsonObject args) {
    return new ToolInvocation("acme", "run_1", "c1", "k1", args, 1);
  }

  @Test
  void refusesAboveLevelZeroWithoutASandboxSayingWhyAndHowToFix() throws Exception {
    ToolResult r =
        tool(1, CliToolConfig.of("/usr/bin/echo", "hi")).invoke(call(JsonValue.EMPTY_OBJECT));
    assertThat(r)
        .isInstanceOfSatisfying(
            ToolResult.Failure.class,
            f -> {
              assertThat(f.type()).isEqualTo("sandbox_unavailable");
              assertThat(f.message()).contains("bwrap is missing");
              assertThat(f.suggestedNextAction()).contains("apt-get install -y bubblewrap");
            });
  }

  @Test
  void levelZeroRunsWithoutASandboxWithLimitsAndACleanEnvironment() throws Exception {
    ToolResult r =
        tool(0, CliToolConfig.of("/usr/bin/bash", "-c", "echo ran; env; touch made.txt"))
            .invoke(call(JsonValue.EMPTY_OBJECT));
    assertThat(r)
        .isInstanceOfSatisfying(
            ToolResult.Success.class,
            s -> {
              JsonValue.JsonObject d = (JsonValue.JsonObject) s.data();
              assertThat(d.get("sandboxed")).contains(JsonValue.FALSE);
              assertThat(d.string("stdout").orElseThrow())
                  .contains("ran")
                  .contains("PATH=/usr/bin:/bin")
                  .doesNotContain("JAVA_HOME");
              assertThat(d.get("changed_files").orElseThrow().toString()).contains("made.txt");
            });
  }

  @Test
  void argumentsBecomeArgvElementsVerbatim() {
    SandboxedCliTool t =
        tool(0, CliToolConfig.of("/usr/bin/grep", "-e", "{pattern}", "--", "{files*}", "{absent}"));
    assertThat(
            t.argv(
                JsonValue.object(
                    "pattern", "$(rm -rf /); `id` | x", "files", List.of("a b.txt", "--help"))))
        .containsExactly("/usr/bin/grep", "-e", "$(rm -rf /); `id` | x", "--", "a b.txt", "--help");
    assertThatThrownBy(() -> t.argv(JsonValue.object("pattern", List.of("x"))))
        .hasMessageContaining("/pattern");
  }

  @Test
  void seccompProgramIsWellFormed() {
    for (boolean network : new boolean[] {false, true}) {
      byte[] prog = SeccompFilter.program(network);
      assertThat(prog.length % 8).isZero();
      int n = prog.length / 8;
      assertThat(n).isBetween(50, 4096);
      ByteBuffer b = ByteBuffer.wrap(prog).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        int code = b.getShort(i * 8) & 0xffff;
        int jt = prog[i * 8 + 2] & 0xff;
        int jf = prog[i * 8 + 3] & 0xff;
        assertThat(code).isIn(0x20, 0x15, 0x35, 0x45, 0x06);
        if (code == 0x15 || code == 0x35 || code == 0x45) {
          assertThat(i + 1 + Math.max(jt, jf)).as("jump target of %d in range", i).isLessThan(n);
        }
      }
      assertThat(b.getShort((n - 1) * 8) & 0xffff).as("ends with a return").isEqualTo(0x06);
    }
  }

  @Test
  void configRefusesRelativeExecutablesAndBadEnvironmentNames() {
    assertThatThrownBy(() -> CliToolConfig.of("echo", "x")).hasMessageContaining("absolute");
    assertThatThrownBy(
            () ->
                new CliToolConfig(
                    List.of("/usr/bin/env"),
                    false,
                    SandboxLimits.DEFAULT,
                    java.util.Map.of("lower", "x"),
                    List.of()))
        .hasMessageContaining("lower");
  }

  @Test
  void probeSaysWhatIsMissingAndHowToFixIt() {
    SandboxCheck.Status st =
        SandboxCheck.probe(
            new Bubblewrap(
                Path.of("/nonexistent/bwrap"),
                Path.of("/usr/bin/prlimit"),
                Path.of("/usr/bin/setpriv"),
                65534));
    assertThat(st.available()).isFalse();
    assertThat(st.report())
        .contains("NOT available")
        .contains("/nonexistent/bwrap is missing")
        .contains("apt-get install -y bubblewrap");
  }
}
