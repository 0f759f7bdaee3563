package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.StoredAgents;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.RunStore;
import dev.keel.store.SignalPayload;
import dev.keel.store.jdbc.JdbcAgentDefinitions;
import dev.keel.store.jdbc.SideDb;
import dev.keel.store.jdbc.Stores;
import dev.keel.tool.ToolPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A run pinned to agent version A resumes on A after a restart in which the YAML file changed to
 * version B (A's file is gone): the second runtime finds A in the store (decision 0024). Two
 * separate runtimes (store, side pool, folder, engine) on one real SQLite file or PostgreSQL
 * schema; without the stored definitions the second runtime cannot resume.
 */
class AgentVersionsRestartIT {
  @TempDir Path tmp;

  private static final Set<String> TOOLS = Set.of("orders.lookup", "orders.refund");

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void aRunPinnedToARemovedVersionResumesOnItAfterARestart(String db) throws Exception {
    String url = db.equals("sqlite") ? "jdbc:sqlite:" + tmp.resolve("keel.db") : StoresIT.pgUrl();
    Path agents = Files.createDirectory(tmp.resolve("agents"));
    String yamlA;
    try (var in = DemoCatalog.class.getResourceAsStream("/agents/support-triage.yaml")) {
      yamlA = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path file = agents.resolve("support-triage.yaml");
    Files.writeString(file, yamlA);

    // runtime 1: loads A, starts a run that waits for a person's approval
    RunId id;
    String versionA;
    try (RunStore store = Stores.open(url, FaultInjector.NONE);
        SideDb side = SideDb.open(url, "", "", 2);
        AgentFolder folder = AgentFolder.load(agents, TOOLS)) {
      StoredAgents catalog =
          StoredAgents.over(folder, new JdbcAgentDefinitions(side, InstantSource.system()));
      folder.registerWith(catalog::register);
      Engine e = engine(store, catalog, new CopyOnWriteArrayList<>());
      Runs runs = new Runs(e);
      id =
          runs.create(
                  Runs.Request.of(
                      "acme", "support-triage", JsonValue.object("goal", "Refund order A-1234")))
              .runId();
      drain(e, store);
      RunState waiting = runs.state(id);
      assertThat(waiting.status()).isEqualTo(RunStatus.WAITING);
      versionA = waiting.header().agentVersion();
    }

    // the file changes to B: A's definition is gone from the folder
    String yamlB = yamlA.replace("Keep the plan up to date.", "Keep the plan short. (B)");
    assertThat(yamlB).isNotEqualTo(yamlA);
    Files.writeString(file, yamlB);

    // the folder alone no longer knows A (the limit 0024 removes)
    try (AgentFolder folder = AgentFolder.load(agents, TOOLS)) {
      assertThat(folder.find("support-triage", versionA)).isEmpty();
    }

    // runtime 2: loads only B; the approval is decided and the run finishes on A
    List<ModelRequest> seen = new CopyOnWriteArrayList<>();
    try (RunStore store = Stores.open(url, FaultInjector.NONE);
        SideDb side = SideDb.open(url, "", "", 2);
        AgentFolder folder = AgentFolder.load(agents, TOOLS)) {
      StoredAgents catalog =
          StoredAgents.over(folder, new JdbcAgentDefinitions(side, InstantSource.system()));
      folder.registerWith(catalog::register);
      String versionB = folder.latest("support-triage").orElseThrow().version();
      assertThat(versionB).isNotEqualTo(versionA);
      Engine e = engine(store, catalog, seen);
      ApprovalRecord a = store.approvals("acme", Optional.of("pending"), 10).getFirst();
      store.decide(
          "acme",
          new SignalPayload.ApprovalDecision(
              a.approvalId(), "approved", "bob", Optional.empty(), ""));
      drain(e, store);
      RunState done = new Runs(e).state(id);
      assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(done.header().agentVersion()).isEqualTo(versionA);
      assertThat(done.output().orElseThrow().string("text"))
          .contains("I refunded $42.50 for order A-1234.");
      // the resumed steps saw A's instructions, never B's
      assertThat(seen).isNotEmpty();
      for (ModelRequest r : seen) {
        String system =
            r.messages().stream()
                .filter(Message.System.class::isInstance)
                .map(m -> ((Message.System) m).text())
                .reduce("", String::concat);
        assertThat(system).contains("Keep the plan up to date.").doesNotContain("(B)");
      }
    } finally {
      if (db.equals("postgresql")) {
        String schema = url.replaceAll(".*currentSchema=", "");
        try (Connection c = DriverManager.getConnection(url);
            Statement s = c.createStatement()) {
          s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
      }
    }
  }

  private static Engine engine(RunStore store, AgentCatalog agents, List<ModelRequest> seen) {
    ModelProvider demo = DemoCatalog.model();
    ModelProvider recording =
        new ModelProvider() {
          @Override
          public String name() {
            return demo.name();
          }

          @Override
          public ModelResponse complete(ModelRequest request) {
            seen.add(request);
            return demo.complete(request);
          }
        };
    return Engine.of(
            store,
            agents,
            recording,
            m -> Pricing.FREE,
            DemoCatalog.tools(),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            EngineConfig.DEFAULT)
        .withOutputContract(new JsonSchemaOutputs());
  }

  private static void drain(Engine e, RunStore store) throws InterruptedException {
    for (int guard = 0; guard < 100; guard++) {
      List<Lease> leases = store.claim("w1", Duration.ofSeconds(30), 10);
      if (leases.isEmpty()) {
        return;
      }
      for (Lease l : leases) {
        RunExecution.load(e, l, e.ticker().getAsLong()).run();
      }
    }
  }
}
