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
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.Pricing;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.Lease;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ManualClock;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.ToolPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentFolderTest {
  private static final Set<String> TOOLS = Set.of("orders.lookup", "orders.refund");

  private static final String TRIAGE =
      """
      name: triage
      description: Triage support requests
      instructions: You triage.
      prompt_version: "4"
      model: scripted
      tools:
        - orders.lookup
        - orders.refund
      capabilities: [plan, ask_person, finish]
      budget:
        max_steps: 10
        max_cost_usd: 0.25
      approval_overrides:
        orders.lookup: always
      response_profiles:
        voice: {max_chars: 200, structure: plain, approval_style: spoken}
        web: {max_chars: 4000, structure: table}
      output_schema:
        type: object
        required: [refund]
      acceptance_criteria:
        - names the order
      max_reflections: 2
      """;

  @Test
  void loadsEveryFieldAndVersionsByContentHash(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Files.writeString(dir.resolve("triage.yaml"), TRIAGE);
    try (AgentFolder f = AgentFolder.load(dir, TOOLS)) {
      AgentSpec a = f.latest("triage").orElseThrow();
      assertThat(a.version()).isEqualTo(a.contentHash().substring(0, 12));
      assertThat(a.promptVersion()).isEqualTo("4");
      assertThat(a.tools()).containsExactly("orders.lookup", "orders.refund");
      assertThat(a.capabilities()).containsExactlyInAnyOrder("plan", "ask_person", "finish");
      assertThat(a.budget().maxSteps()).isEqualTo(10);
      assertThat(a.budget().maxCostMicros()).isEqualTo(250_000);
      assertThat(a.approvalOverrides()).containsEntry("orders.lookup", "always");
      assertThat(a.profile("voice").maxChars()).isEqualTo(200);
      assertThat(a.profile("voice").approvalStyle()).isEqualTo("spoken");
      assertThat(a.profile("web").structure()).isEqualTo("table");
      assertThat(a.profile("cli").structure()).isEqualTo("plain");
      assertThat(a.outputSchema().orElseThrow().string("type")).contains("object");
      assertThat(a.acceptanceCriteria()).containsExactly("names the order");
      assertThat(a.maxReflections()).isEqualTo(2);
    }
  }

  @Test
  void errorsNameFileLineAndKey(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Files.writeString(
        dir.resolve("triage.yaml"),
        """
        name: triage
        instructions: You triage.
        model: scripted
        tools:
          - orders.lookup
          - crm.foo
        colour: blue
        budget:
          max_steps: -1
        approval_overrides:
          orders.lookup: sometimes
        response_profiles:
          fax: {max_chars: 10}
        """);
    Files.writeString(dir.resolve("broken.yaml"), "name: x\n  bad: [\n");
    assertThatThrownBy(() -> AgentFolder.load(dir, TOOLS))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            x ->
                assertThat(((ConfigException) x).problems())
                    .contains(
                        "agents/triage.yaml:6: tools[1]: unknown tool 'crm.foo'; known tools:"
                            + " [orders.lookup, orders.refund]")
                    .anyMatch(p -> p.startsWith("agents/triage.yaml:7: colour: unknown key"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/triage.yaml:9: budget.max_steps: must be a whole number"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/triage.yaml:11: approval_overrides.orders.lookup: must be"
                                    + " 'always'"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/triage.yaml:13: response_profiles.fax: unknown channel"))
                    .anyMatch(p -> p.startsWith("agents/broken.yaml:2: not valid YAML")));
  }

  @Test
  void theAmbiguityBlockAndNewerProfileSettingsAreLoaded(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Files.writeString(
        dir.resolve("shop.yaml"),
        """
        name: shop
        instructions: You sell.
        model: scripted
        ambiguity:
          threshold: 0.8
        response_profiles:
          voice: {max_chars: 300, structure: plain, approval_style: spoken, max_sentences: 2,
                  modalities: [audio, text]}
        """);
    try (AgentFolder f = AgentFolder.load(dir, TOOLS)) {
      dev.keel.agent.AgentSpec a = f.latest("shop").orElseThrow();
      assertThat(a.ambiguityThreshold()).isEqualTo(0.8);
      assertThat(a.profile("voice"))
          .isEqualTo(
              new dev.keel.agent.ResponseProfile(
                  300, "plain", "spoken", 2, java.util.Set.of("audio", "text")));
    }
  }

  @Test
  void ambiguityAndProfileErrorsNameFileLineAndKey(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Files.writeString(
        dir.resolve("shop.yaml"),
        """
        name: shop
        instructions: You sell.
        model: scripted
        ambiguity:
          threshold: 1.5
          mode: strict
        response_profiles:
          voice:
            max_sentences: -2
            modalities: [audio, smell]
        """);
    assertThatThrownBy(() -> AgentFolder.load(dir, TOOLS))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            x ->
                assertThat(((ConfigException) x).problems())
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/shop.yaml:5: ambiguity.threshold: must be a number from"
                                    + " 0 to 1"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/shop.yaml:6: ambiguity.mode: unknown key; known keys:"
                                    + " [threshold]"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/shop.yaml:9: response_profiles.voice.max_sentences:"))
                    .anyMatch(
                        p ->
                            p.startsWith(
                                "agents/shop.yaml:10: response_profiles.voice.modalities[1]: must"
                                    + " be one of [audio, file, image, text]")));
  }

  @Test
  void missingRequiredKeysAreNamed(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Files.writeString(dir.resolve("a.yaml"), "name: a\n");
    assertThatThrownBy(() -> AgentFolder.load(dir, TOOLS))
        .satisfies(
            x ->
                assertThat(((ConfigException) x).problems())
                    .containsExactly(
                        "agents/a.yaml:1: instructions: required",
                        "agents/a.yaml:1: model: required"));
  }

  @Test
  void explicitVersionCannotNameDifferentContent(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Path file = dir.resolve("a.yaml");
    Files.writeString(file, "name: a\nversion: \"3\"\ninstructions: one\nmodel: scripted\n");
    try (AgentFolder f = AgentFolder.load(dir, TOOLS)) {
      assertThat(f.latest("a").orElseThrow().version()).isEqualTo("3");
      Files.writeString(file, "name: a\nversion: \"3\"\ninstructions: two\nmodel: scripted\n");
      assertThat(f.reload())
          .singleElement()
          .asString()
          .startsWith("agents/a.yaml:2: version: version '3' of agent a already has different");
      assertThat(f.latest("a").orElseThrow().instructions()).isEqualTo("one");
      Files.writeString(file, "name: a\nversion: \"4\"\ninstructions: two\nmodel: scripted\n");
      assertThat(f.reload()).isEmpty();
      assertThat(f.versions("a")).extracting(AgentSpec::version).containsExactly("3", "4");
    }
  }

  @Test
  void hotReloadMakesANewVersionWhileAnExistingRunKeepsItsOwn(@TempDir Path tmp) throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("agents"));
    Path file = dir.resolve("helper.yaml");
    Files.writeString(file, "name: helper\ninstructions: Version one.\nmodel: scripted\n");
    ManualClock clock = new ManualClock();
    InMemoryRunStore store = new InMemoryRunStore(clock);
    List<ModelRequest> seen = new CopyOnWriteArrayList<>();
    try (AgentFolder agents = AgentFolder.load(dir, Set.of())) {
      Engine engine =
          new Engine(
              store,
              agents,
              ScriptedModel.of(
                  (req, step) -> {
                    seen.add(req);
                    return ScriptedModel.text("ok");
                  }),
              m -> Pricing.FREE,
              new dev.keel.tool.ToolRegistry(List.of()),
              ToolPolicy.byRiskLevel(),
              clock,
              IdSource.seeded(3),
              FaultInjector.NONE,
              EngineConfig.DEFAULT,
              () -> clock.instant().toEpochMilli() * 1_000_000L);
      Runs runs = new Runs(engine);
      RunId first =
          runs.create(Runs.Request.of("acme", "helper", JsonValue.object("goal", "hi"))).runId();
      String v1 = agents.latest("helper").orElseThrow().version();

      Files.writeString(file, "name: helper\ninstructions: Version two.\nmodel: scripted\n");
      assertThat(agents.reload()).isEmpty();
      String v2 = agents.latest("helper").orElseThrow().version();
      assertThat(v2).isNotEqualTo(v1);
      RunId second =
          runs.create(Runs.Request.of("acme", "helper", JsonValue.object("goal", "hi"))).runId();

      drain(engine, store);
      assertThat(runs.state(first).status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(runs.state(second).status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(runs.state(first).header().agentVersion()).isEqualTo(v1);
      assertThat(runs.state(second).header().agentVersion()).isEqualTo(v2);
      assertThat(seen)
          .extracting(r -> ((Message.System) r.messages().getFirst()).text().split("\n\n")[0])
          .containsExactlyInAnyOrder("Version one.", "Version two.");
      RunEvent.RunCreated created = (RunEvent.RunCreated) firstEvent(store, first).event();
      assertThat(created.versions().string("agent")).contains(v1);
      assertThat(created.versions().string("prompt")).contains("1");
      assertThat(created.versions().string("model")).contains("scripted");
    }
  }

  private static EventEnvelope firstEvent(InMemoryRunStore store, RunId id) {
    return store.events(id, 0, 1).getFirst();
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
