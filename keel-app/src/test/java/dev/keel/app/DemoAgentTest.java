package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ManualClock;
import dev.keel.tool.ToolPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example agent a new user runs offline: a plan, a tool call, an approval, a final answer. */
class DemoAgentTest {

  @Test
  void theShippedDefinitionIsTheOneOnTheClasspath() throws Exception {
    Path shipped = Path.of("..", "agents", "support-triage.yaml");
    String resource;
    try (var in = DemoCatalog.class.getResourceAsStream("/agents/support-triage.yaml")) {
      resource = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(Files.readString(shipped)).isEqualTo(resource);
    try (AgentFolder f =
        AgentFolder.load(shipped.getParent(), Set.of("orders.lookup", "orders.refund"))) {
      assertThat(f.latest("support-triage").orElseThrow()).isEqualTo(DemoCatalog.triage());
    }
  }

  @Test
  void supportTriageShowsAPlanAToolCallAnApprovalAndAFinalAnswer() throws Exception {
    ManualClock clock = new ManualClock();
    InMemoryRunStore store = new InMemoryRunStore(clock);
    Engine engine =
        new Engine(
                store,
                DemoCatalog.agents(),
                DemoCatalog.model(),
                m -> Pricing.FREE,
                DemoCatalog.tools(),
                ToolPolicy.byRiskLevel(),
                clock,
                IdSource.seeded(5),
                FaultInjector.NONE,
                EngineConfig.DEFAULT,
                () -> clock.instant().toEpochMilli() * 1_000_000L)
            .withOutputContract(new JsonSchemaOutputs());
    Runs runs = new Runs(engine);
    RunId id =
        runs.create(
                Runs.Request.of(
                    "acme", "support-triage", JsonValue.object("goal", "Refund order A-1234")))
            .runId();
    drain(engine, store);
    RunState waiting = runs.state(id);
    assertThat(waiting.status()).isEqualTo(RunStatus.WAITING);
    assertThat(waiting.loop().plan().steps())
        .extracting(s -> s.id() + ":" + s.status())
        .containsExactly("lookup:done", "refund:in_progress", "answer:pending");
    ApprovalRecord a = store.approvals("acme", Optional.of("pending"), 10).getFirst();
    assertThat(a.tool()).isEqualTo("orders.refund");
    store.decide(
        "acme",
        new SignalPayload.ApprovalDecision(
            a.approvalId(), "approved", "bob", Optional.empty(), ""));
    drain(engine, store);
    RunState done = runs.state(id);
    assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(done.output().orElseThrow().string("text"))
        .contains("I refunded $42.50 for order A-1234.");
    JsonValue.JsonObject data =
        (JsonValue.JsonObject) done.output().orElseThrow().get("data").orElseThrow();
    assertThat(data.string("outcome")).contains("refunded");
    assertThat(data.string("refund_id").orElseThrow()).startsWith("rf_");
    List<String> types =
        store.events(id, 0, 1000).stream().map(EventEnvelope::event).map(e -> e.type()).toList();
    assertThat(types)
        .contains(
            "plan.updated",
            "tool.succeeded",
            "approval.requested",
            "approval.resolved",
            "answer.drafted",
            "output.recorded",
            "run.completed");
    assertThat(InvariantChecker.check(store)).isEmpty();
  }

  @Test
  void theFullValidatorEnforcesTheOutputSchema() {
    JsonSchemaOutputs outputs = new JsonSchemaOutputs();
    AgentSpec triage = DemoCatalog.triage();
    assertThat(
            outputs.violations(
                triage.outputSchema().orElseThrow(),
                JsonValue.object("order_id", "A-1", "outcome", "maybe")))
        .singleElement()
        .asString()
        .startsWith("/outcome: ");
    assertThat(
            outputs.violations(
                triage.outputSchema().orElseThrow(),
                JsonValue.object("order_id", "A-1", "outcome", "refunded")))
        .isEmpty();
  }

  @Test
  void anInvalidOutputSchemaIsRefusedWithItsLine(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Files.writeString(
        dir.resolve("a.yaml"),
        "name: a\ninstructions: x\nmodel: scripted\noutput_schema:\n  type: 12\n");
    assertThatThrownBy(() -> AgentFolder.load(dir, Set.of()))
        .satisfies(
            x ->
                assertThat(((ConfigException) x).problems())
                    .singleElement()
                    .asString()
                    .startsWith("agents/a.yaml:4: output_schema: output_schema is not a valid"));
  }

  private static void drain(Engine engine, InMemoryRunStore store) throws Exception {
    for (int i = 0; i < 100; i++) {
      List<Lease> leases = store.claim("w", engine.config().leaseTime(), 10);
      if (leases.isEmpty()) {
        return;
      }
      for (Lease l : leases) {
        RunExecution.load(engine, l, engine.ticker().getAsLong()).run();
      }
    }
  }
}
