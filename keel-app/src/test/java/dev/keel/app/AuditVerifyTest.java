package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.ChainVerifier;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.store.Lease;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code keel audit verify} finds an edited and a deleted event; PostgreSQL refuses both. */
class AuditVerifyTest {

  @Test
  void auditVerifyFindsAnEditedAndADeletedEventAcrossRuns() throws Exception {
    Path home = Files.createTempDirectory("keel-audit");
    String url = "jdbc:sqlite:" + home.resolve("keel.db");
    List<RunId> runs;
    try (RunStore store = Stores.open(url, FaultInjector.NONE)) {
      runs = runThree(store);
    }
    assertThat(audit(home, url).code()).isZero();
    assertThat(audit(home, url).out()).contains("audit: 3 runs, all hash chains intact");

    try (Connection c = DriverManager.getConnection(url)) {
      try (PreparedStatement p =
          c.prepareStatement(
              "UPDATE run_events SET data = replace(data, 'order', 'ORDER') WHERE run_id = ? AND"
                  + " seq = 1")) {
        p.setString(1, runs.get(0).value());
        assertThat(p.executeUpdate()).isEqualTo(1);
      }
      try (PreparedStatement p =
          c.prepareStatement(
              "DELETE FROM run_events WHERE run_id = ? AND seq = (SELECT max(seq) FROM run_events"
                  + " WHERE run_id = ?)")) {
        p.setString(1, runs.get(1).value());
        p.setString(2, runs.get(1).value());
        assertThat(p.executeUpdate()).isEqualTo(1);
      }
    }
    Out broken = audit(home, url);
    assertThat(broken.code()).isEqualTo(1);
    assertThat(broken.out())
        .contains(runs.get(0).value() + ": BROKEN")
        .contains("does not match its stored hash: edited")
        .contains(runs.get(1).value() + ": BROKEN")
        .contains("events were deleted")
        .doesNotContain(runs.get(2).value())
        .contains("audit: 2 of 3 runs BROKEN");
  }

  @Test
  void postgresRefusesToUpdateOrDeleteEvents() throws Exception {
    String base =
        Optional.ofNullable(System.getenv("PG_URL"))
            .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    String schema = "keel_audit_" + Long.toHexString(System.nanoTime());
    try (Connection c = DriverManager.getConnection(base);
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    String url = base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    try {
      List<RunId> runs;
      try (RunStore store = Stores.open(url, FaultInjector.NONE)) {
        runs = runThree(store);
        assertThat(ChainVerifier.verifyAll(store)).isEmpty();
      }
      try (Connection c = DriverManager.getConnection(url);
          Statement st = c.createStatement()) {
        String id = runs.get(0).value();
        assertThatThrownBy(
                () ->
                    st.executeUpdate(
                        "UPDATE run_events SET data = '{}' WHERE run_id = '" + id + "'"))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("run_events is append-only: UPDATE");
        assertThatThrownBy(
                () -> st.executeUpdate("DELETE FROM run_events WHERE run_id = '" + id + "'"))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("run_events is append-only: DELETE");
      }
      try (RunStore store = Stores.open(url, FaultInjector.NONE)) {
        assertThat(ChainVerifier.verifyAll(store)).isEmpty();
        assertThat(store.events(runs.get(0), 0, 1000)).isNotEmpty();
      }
    } finally {
      try (Connection c = DriverManager.getConnection(base);
          Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  record Out(int code, String out, String err) {}

  private static Out audit(Path home, String url) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new String[] {"audit", "verify"},
            new PrintWriter(out),
            new PrintWriter(err),
            Map.of("KEEL_HOME", home.toString(), "KEEL_STORE_URL", url));
    return new Out(code, out.toString(), err.toString());
  }

  /** Three completed runs of a one-tool agent. */
  private static List<RunId> runThree(RunStore store) throws InterruptedException {
    ToolSpec spec =
        ToolSpec.builder("orders.lookup").riskLevel(0).idempotency(Idempotency.NATURAL).build();
    Tool lookup =
        new Tool() {
          @Override
          public ToolSpec spec() {
            return spec;
          }

          @Override
          public ToolResult invoke(ToolInvocation inv) {
            return new ToolResult.Success(JsonValue.object("status", "shipped"));
          }
        };
    AgentSpec agent =
        new AgentSpec(
            "support", "1", "Help.", "scripted", List.of("orders.lookup"), Budget.DEFAULT, 64);
    Engine e =
        Engine.of(
            store,
            AgentCatalog.of(List.of(agent)),
            ScriptedModel.of(ScriptedModel.loop("orders.lookup", JsonValue.object("id", 1L), 1)),
            m -> Pricing.FREE,
            new ToolRegistry(List.of(lookup)),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT.withCheckpointEvery(1));
    Runs r = new Runs(e);
    List<RunId> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(
          r.create(Runs.Request.of("acme", "support", JsonValue.object("goal", "find order " + i)))
              .runId());
    }
    for (int guard = 0; guard < 100; guard++) {
      List<Lease> leases = store.claim("w1", Duration.ofSeconds(30), 10);
      if (leases.isEmpty()) {
        break;
      }
      for (Lease l : leases) {
        RunExecution.load(e, l, e.ticker().getAsLong()).run();
      }
    }
    for (RunId id : ids) {
      assertThat(r.state(id).status().terminal()).isTrue();
    }
    return ids;
  }
}
