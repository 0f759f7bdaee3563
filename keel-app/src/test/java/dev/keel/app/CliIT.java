package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keel CLI in-process with captured output, on an embedded runtime over a fresh SQLite store
 * (no server running): every documented exit code.
 */
class CliIT {
  @TempDir Path home;

  /** One CLI invocation's outcome. */
  record Out(int code, String out, String err) {
    JsonObject json() {
      return (JsonObject)
          JsonParser.parse(out.strip().lines().reduce((a, b) -> b).orElse(""), JsonLimits.TRUSTED);
    }
  }

  Out keel(String... args) {
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_HOME", home.toString());
    env.put("KEEL_SERVER_PORT", "0");
    env.put("PATH", System.getenv().getOrDefault("PATH", ""));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out), new PrintWriter(err), env);
    return new Out(code, out.toString(), err.toString());
  }

  static String firstPendingApproval(JsonObject run) {
    List<JsonValue> ids =
        ((JsonValue.JsonArray) run.get("pending_approvals").orElseThrow()).items();
    return ((JsonValue.JsonString) ids.getFirst()).value();
  }

  @Test
  void runWaitsForAPersonThenApproveCompletesIt() {
    Out run =
        keel(
            "run",
            "support-triage",
            "Refund order A-1234, it arrived damaged",
            "--wait",
            "--output",
            "json");
    assertThat(run.code()).as(run.err()).isEqualTo(3);
    JsonObject r = run.json();
    assertThat(r.string("status")).contains("waiting");
    String runId = r.string("id").orElseThrow();
    String approval = firstPendingApproval(r);

    Out list = keel("approvals");
    assertThat(list.code()).isZero();
    assertThat(list.out())
        .contains(approval)
        .contains("orders.refund")
        .contains("keel approve " + approval);

    Out approve = keel("approve", approval, "--comment", "ok");
    assertThat(approve.code()).as(approve.err()).isZero();
    assertThat(approve.out())
        .contains("approved")
        .contains("completed")
        .contains("I refunded $42.50 for order A-1234.");

    Out status = keel("status", runId);
    assertThat(status.code()).isZero();
    assertThat(status.out()).contains("completed");
    assertThat(keel("logs", runId).out()).contains("run.created").contains("run.completed");
    assertThat(keel("runs", "--output", "json").out()).contains(runId);
    assertThat(keel("usage", "--by", "agent").out()).contains("support-triage");
    assertThat(keel("usage", "--by", "skill", "--from", "2020-01-01T00:00:00Z").out())
        .contains("(none)")
        .contains(" ok, $");
    assertThat(keel("usage", "--by", "agent", "--to", "2020-01-01T00:00:00Z").out())
        .contains("no usage yet");
    Out verify = keel("verify", runId);
    assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out()).contains("intact");
  }

  @Test
  void followShowsProgressAndExits3WhenAPersonIsNeeded() {
    Out f = keel("run", "support-triage", "Refund order B-77777", "--follow");
    assertThat(f.code()).as(f.err()).isEqualTo(3);
    assertThat(f.out())
        .contains("step 1: planning")
        .contains("next: orders.lookup")
        .contains("next: orders.refund")
        .contains("orders.lookup succeeded")
        .contains("needs approval apr_")
        .contains("cost so far $");
  }

  @Test
  void cancelledRunsExit1AndABrokenChainExits1() throws Exception {
    Out run = keel("run", "support-triage", "Refund order C-3003", "--wait", "--output", "json");
    String runId = run.json().string("id").orElseThrow();
    assertThat(keel("cancel", runId, "--reason", "test").code()).isZero();
    Out status = keel("status", runId);
    assertThat(status.out()).contains("cancelled");
    assertThat(status.code()).isEqualTo(1);

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve("keel.db"));
        PreparedStatement p =
            c.prepareStatement(
                "UPDATE run_events SET data = replace(data, 'C-3003', 'Z-9999') WHERE run_id = ? AND seq = 1")) {
      p.setString(1, runId);
      assertThat(p.executeUpdate()).isEqualTo(1);
    }
    Out verify = keel("verify", runId);
    assertThat(verify.code()).isEqualTo(1);
    assertThat(verify.out()).contains("BROKEN");
  }

  @Test
  void usageErrorsExit2AndAnUnreachableServerExits4() {
    assertThat(keel("run").code()).isEqualTo(2);
    assertThat(keel("nonsense").code()).isEqualTo(2);
    assertThat(keel("agents", "--output", "xml").code()).isEqualTo(2);
    assertThat(keel("run", "no-such-agent", "goal").code()).isEqualTo(2);
    assertThat(keel("status", "run_doesnotexist").code()).isEqualTo(2);
    assertThat(keel("deny", "apr_x").code()).isEqualTo(2);
    Out badRange = keel("usage", "--from", "yesterday");
    assertThat(badRange.code()).isEqualTo(2);
    assertThat(badRange.err()).contains("?from");
    Out down = keel("agents", "--server", "http://127.0.0.1:1");
    assertThat(down.code()).isEqualTo(4);
    assertThat(down.err()).contains("cannot reach the Keel server");
  }

  @Test
  void keysMigrateDoctorAgentsAndTools() throws Exception {
    assertThat(keel("migrate").code()).isZero();
    Out key = keel("keys", "create", "--tenant", "globex", "--role", "viewer", "--output", "json");
    assertThat(key.code()).as(key.err()).isZero();
    assertThat(key.json().string("token")).get().asString().startsWith("keel_");
    assertThat(keel("keys", "create", "--tenant", "globex", "--role", "root").code()).isEqualTo(2);
    Out agents = keel("agents");
    assertThat(agents.out()).contains("support-triage");
    assertThat(keel("tools").out()).contains("orders.refund  risk 3");
    Path adminKey = home.resolve("admin.key");
    assertThat(Files.getPosixFilePermissions(adminKey))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    Out doctor = keel("doctor");
    assertThat(doctor.out())
        .contains("ok   JDK")
        .contains("store reachable")
        .contains("model provider");
    assertThat(doctor.code()).isIn(0, 1);
  }
}
