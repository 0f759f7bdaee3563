package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.run.ToolCallState;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tools.http.DnsResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's second lock and the per-run scope of {@link ToolWiring}, on the real engine and the
 * in-memory store; and the refusal of bad tool declarations.
 */
class ToolWiringTest {
  @TempDir Path home;

  private KeelConfig config() {
    return ConfigLoader.load(Optional.empty(), Map.of("KEEL_HOME", home.toString()));
  }

  private static void runUntilIdle(Engine engine) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      List<Lease> leases = engine.store().claim("w1", engine.config().leaseTime(), 10);
      if (leases.isEmpty()) {
        return;
      }
      for (Lease l : leases) {
        RunExecution.load(engine, l, engine.ticker().getAsLong()).run();
      }
    }
  }

  @Test
  void anApprovedCallWhoseGrantWasAlreadyUsedIsRefusedByTheEngine() throws Exception {
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    ToolWiring tooling = ToolWiring.of(config(), store, DnsResolver.system());
    Engine engine =
        Engine.of(
                store,
                DemoCatalog.agents(),
                DemoCatalog.model(),
                m -> Pricing.FREE,
                tooling.catalog().registry(),
                ToolPolicy.byRiskLevel(),
                InstantSource.system(),
                IdSource.random(),
                FaultInjector.NONE,
                EngineConfig.DEFAULT)
            .withToolScope(tooling.scope())
            .withGate(tooling.gate());
    Runs runs = new Runs(engine);
    RunId id =
        runs.create(
                Runs.Request.of(
                    "default", "support-triage", JsonValue.object("goal", "Refund order C-4003")))
            .runId();
    runUntilIdle(engine);
    assertThat(runs.state(id).status()).isEqualTo(RunStatus.WAITING);
    ApprovalRecord a = store.approvals("default", Optional.of("pending"), 10).getFirst();
    store.decide(
        "default",
        new SignalPayload.ApprovalDecision(
            a.approvalId(), "approved", "key_x", Optional.empty(), ""));

    // the grant is used once, as an earlier execution of this approval would have used it
    RunState s = runs.state(id);
    ToolCallState call = s.call(a.callId()).orElseThrow();
    ToolInvocation inv =
        new ToolInvocation(
            "default",
            id.value(),
            call.callId(),
            "keel:" + id.value() + ":" + call.callId(),
            a.arguments(),
            1);
    ToolCallState approved = call.awaiting(a.approvalId());
    assertThat(
            tooling
                .gate()
                .refuse(
                    s.header(),
                    approved,
                    new ToolInvocation(
                        "default",
                        id.value(),
                        call.callId(),
                        inv.idempotencyKey(),
                        JsonValue.object("order_id", "C-4003", "amount_usd", 99),
                        1)))
        .as("other arguments than the approved ones")
        .isPresent();
    assertThat(tooling.gate().refuse(s.header(), approved, inv)).isEmpty();

    runUntilIdle(engine);
    List<RunEvent> log =
        store.events(id, 0, Integer.MAX_VALUE).stream().map(EventEnvelope::event).toList();
    assertThat(log)
        .filteredOn(RunEvent.ToolCallFailed.class::isInstance)
        .map(e -> (RunEvent.ToolCallFailed) e)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.callId()).isEqualTo(a.callId());
              assertThat(f.errorType()).isEqualTo("execution_refused");
            });
    assertThat(log)
        .filteredOn(RunEvent.ToolCallStarted.class::isInstance)
        .map(e -> ((RunEvent.ToolCallStarted) e).callId())
        .doesNotContain(a.callId());
    assertThat(runs.state(id).status()).isEqualTo(RunStatus.COMPLETED);
  }

  @Test
  void theLimitOnInvalidArgumentsHoldsAcrossAReload() throws Exception {
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    ToolWiring tooling = ToolWiring.of(config(), store, DnsResolver.system());
    JsonValue.JsonObject invalid = JsonValue.object("order", "A-1001");
    Engine engine =
        Engine.of(
                store,
                DemoCatalog.agents(),
                dev.keel.testkit.ScriptedModel.of(
                    dev.keel.testkit.ScriptedModel.steps(
                        dev.keel.testkit.ScriptedModel.calls(
                            dev.keel.testkit.ScriptedModel.call("a", "orders.lookup", invalid)),
                        dev.keel.testkit.ScriptedModel.calls(
                            dev.keel.testkit.ScriptedModel.call("b", "orders.lookup", invalid)),
                        dev.keel.testkit.ScriptedModel.calls(
                            dev.keel.testkit.ScriptedModel.call("c", "orders.lookup", invalid)),
                        dev.keel.testkit.ScriptedModel.calls(
                            dev.keel.testkit.ScriptedModel.call(
                                "d", "keel.fail", JsonValue.object("reason", "gave up"))))),
                m -> Pricing.FREE,
                tooling.catalog().registry(),
                ToolPolicy.byRiskLevel(),
                InstantSource.system(),
                IdSource.random(),
                FaultInjector.NONE,
                EngineConfig.DEFAULT)
            .withToolScope(tooling.scope());
    Runs runs = new Runs(engine);
    RunId id =
        runs.create(
                Runs.Request.of(
                    "default", "support-triage", JsonValue.object("goal", "Look up A-1001")))
            .runId();
    runUntilIdle(engine);
    RunState s = runs.state(id);
    assertThat(s.messages())
        .filteredOn(dev.keel.model.Message.ToolResult.class::isInstance)
        .map(dev.keel.model.Message.ToolResult.class::cast)
        .filteredOn(r -> r.toolName().equals("orders.lookup"))
        .hasSize(3)
        .allSatisfy(r -> assertThat(r.content().toString()).contains("invalid_arguments"));

    // a worker that loads the run again gets a policy that remembers the three invalid proposals
    dev.keel.tool.ToolSpec lookup = tooling.catalog().find("orders.lookup").orElseThrow().spec();
    JsonValue.JsonObject valid = JsonValue.object("order_id", "A-1001");
    assertThat(tooling.scope().forRun(s).policy().decide("default", lookup, valid))
        .isInstanceOfSatisfying(
            dev.keel.tool.PolicyVerdict.Deny.class,
            d -> assertThat(d.reason()).contains("refused for the rest of this run"));
    // without the history (a fresh header-only scope), the same call would have been allowed
    assertThat(tooling.scope().forRun(s.header()).policy().decide("default", lookup, valid))
        .isInstanceOf(dev.keel.tool.PolicyVerdict.Allow.class);
  }

  @Test
  void toolsAreFilteredPerRunByTenantTierAndFlags() throws Exception {
    Path file = home.resolve("keel.yaml");
    Files.writeString(
        file,
        """
        tools:
          tenants:
            acme: {tier: enterprise, flags: [beta]}
          http:
            - name: crm.lookup
              risk: 0
              url: https://crm.example.com/v1/accounts/{id}
              availability: {tenants: ["*"], tiers: [enterprise], flags: [beta]}
              input-schema:
                type: object
                required: [id]
                properties: {id: {type: string}}
        """);
    KeelConfig cfg = ConfigLoader.load(Optional.of(file), Map.of("KEEL_HOME", home.toString()));
    ToolWiring tooling =
        ToolWiring.of(cfg, new InMemoryRunStore(InstantSource.system()), DnsResolver.system());
    dev.keel.run.RunHeader acme = header("acme");
    dev.keel.run.RunHeader other = header("other");
    assertThat(tooling.scope().forRun(acme).versions())
        .containsKeys("crm.lookup", "orders.lookup", "orders.refund");
    assertThat(tooling.scope().forRun(other).versions())
        .containsOnlyKeys("orders.lookup", "orders.refund");
    assertThat(tooling.scope().forRun(other).tools().find("crm.lookup")).isEmpty();
  }

  private static dev.keel.run.RunHeader header(String tenant) {
    return new dev.keel.run.RunHeader(
        RunId.of("run_" + tenant + "0000000000000000000000"),
        tenant,
        "support-triage",
        "1",
        JsonValue.EMPTY_OBJECT,
        dev.keel.run.Budget.DEFAULT,
        "api",
        Optional.empty(),
        Optional.empty(),
        JsonValue.EMPTY_OBJECT,
        java.time.Instant.now());
  }

  @Test
  void aDeclaredCliToolRunsInTheSandboxWithArgvNotAShell() throws Exception {
    // as root the command runs as an unprivileged uid, which must traverse the data folder
    Files.setPosixFilePermissions(
        home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    Path file = home.resolve("keel.yaml");
    Files.writeString(
        file,
        """
        tools:
          cli:
            - name: text.echo
              risk: 1
              argv: [/usr/bin/echo, "{text}"]
              input-schema:
                type: object
                required: [text]
                additionalProperties: false
                properties: {text: {type: string, maxLength: 200}}
        """);
    KeelConfig cfg = ConfigLoader.load(Optional.of(file), Map.of("KEEL_HOME", home.toString()));
    ToolWiring tooling =
        ToolWiring.of(cfg, new InMemoryRunStore(InstantSource.system()), DnsResolver.system());
    dev.keel.tool.ToolResult r =
        tooling
            .catalog()
            .find("text.echo")
            .orElseThrow()
            .invoke(
                new ToolInvocation(
                    "default",
                    "run_cli0000000000000000000000",
                    "call_1_0",
                    "k1",
                    JsonValue.object("text", "hello; rm -rf / $(id)"),
                    1));
    assertThat(r).isInstanceOf(dev.keel.tool.ToolResult.Success.class);
    String data = ((dev.keel.tool.ToolResult.Success) r).data().toString();
    assertThat(data).contains("hello; rm -rf / $(id)").contains("\"exit_code\":0");
  }

  @Test
  void theDocumentedExampleConfigurationLoads() throws Exception {
    Path doc = Path.of("").toAbsolutePath().getParent().resolve("docs/tools-models-budgets.md");
    String md = Files.readString(doc);
    String yaml =
        md.substring(md.indexOf("```yaml") + 7, md.indexOf("```", md.indexOf("```yaml") + 7));
    Path file = home.resolve("keel.yaml");
    Files.writeString(file, yaml);
    KeelConfig cfg = ConfigLoader.load(Optional.of(file), Map.of("KEEL_HOME", home.toString()));
    ToolWiring tooling =
        ToolWiring.of(cfg, new InMemoryRunStore(InstantSource.system()), DnsResolver.system());
    assertThat(tooling.scope().forRun(header("acme")).versions())
        .containsEntry("orders.refund", "2")
        .containsKeys("orders.lookup", "text.wordcount");
    ModelWiring models = ModelWiring.of(cfg);
    try {
      assertThat(models.provider().name()).isEqualTo("gateway");
    } finally {
      models.close();
    }
    assertThat(cfg.sections().get("budgets.tenants").orElseThrow().toString()).contains("acme");
  }

  @Test
  void badDeclarationsAreRefusedWithTheirLocation() throws Exception {
    Path file = home.resolve("keel.yaml");
    Files.writeString(
        file,
        """
        tools:
          secrets:
            PAY: s3cr3t-literal
          http:
            - name: pay.refund
              risk: 7
              url: https://pay.example.com/{id}
              colour: blue
              input-schema: {type: object}
        """);
    KeelConfig cfg = ConfigLoader.load(Optional.of(file), Map.of("KEEL_HOME", home.toString()));
    assertThatThrownBy(
            () ->
                ToolWiring.of(
                    cfg, new InMemoryRunStore(InstantSource.system()), DnsResolver.system()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tools.secrets.PAY must be a reference");
    Files.writeString(
        file,
        """
        tools:
          http:
            - name: pay.refund
              risk: 7
              url: https://pay.example.com/{id}
              colour: blue
              input-schema: {type: object}
        """);
    KeelConfig cfg2 = ConfigLoader.load(Optional.of(file), Map.of("KEEL_HOME", home.toString()));
    assertThatThrownBy(
            () ->
                ToolWiring.of(
                    cfg2, new InMemoryRunStore(InstantSource.system()), DnsResolver.system()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown key 'colour' in tools.http[0]")
        .hasMessageContaining("risk must be 0 to 4");
  }
}
