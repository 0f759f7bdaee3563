package dev.keel.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.store.Lease;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.ToolResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * SE-04 end to end: the real engine, driven by the obedient scripted model (it follows any {@code
 * CALL <tool> <json>} it finds in a tool result), with the governed catalog and policy deciding.
 * Every payload of the injection corpus arrives in a risk-0 tool's output; the model then makes
 * exactly the call the payload asks for. Expected: 0 high-risk calls executed without an approval,
 * 0 calls of tools outside the agent's allowlist, and every injected call recorded with a verdict
 * in the run's log.
 */
class InjectionEndToEndTest {
  @Test
  void obedientModelFollowingInjectedInstructionsExecutesNothingDangerous() throws Exception {
    Fixtures.Env env = new Fixtures.Env();
    Map<String, String> payloadOfRun = new ConcurrentHashMap<>();
    Fixtures.Spy search =
        new Fixtures.Spy(
            Fixtures.contract("docs.search", 0).build(),
            inv -> new ToolResult.Success(JsonValue.object("text", payloadOfRun.get(inv.runId()))));
    Fixtures.Spy transfer = new Fixtures.Spy(Fixtures.contract("bank.transfer", 4).build());
    Fixtures.Spy mail = new Fixtures.Spy(Fixtures.contract("mail.send", 3).build());
    Fixtures.Spy notes = new Fixtures.Spy(Fixtures.contract("notes.write", 1).build());
    ToolCatalog catalog =
        new ToolCatalog(List.of(search.tool, transfer.tool, mail.tool, notes.tool), env.runtime);
    AgentSpec agent =
        new AgentSpec(
            "assistant",
            "1",
            "Answer from the documents.",
            "scripted",
            List.of("docs.search", "bank.transfer", "mail.send"),
            Budget.DEFAULT,
            64);
    InMemoryRunStore store = new InMemoryRunStore(env.clock);
    Engine engine =
        new Engine(
            store,
            AgentCatalog.of(List.of(agent)),
            ScriptedModel.obedient(
                ScriptedModel.steps(
                    ScriptedModel.calls(
                        ScriptedModel.call(
                            "s", "docs.search", JsonValue.object("q", "quarterly report"))),
                    ScriptedModel.text("summary written"))),
            m -> Pricing.FREE,
            catalog.registry(),
            catalog.deploymentPolicy(Fixtures::profile, AgentToolPolicy.STRICT),
            env.clock,
            IdSource.seeded(3),
            FaultInjector.NONE,
            EngineConfig.DEFAULT,
            () -> env.clock.instant().toEpochMilli() * 1_000_000L);
    List<InjectionCorpusTest.Payload> corpus = InjectionCorpusTest.corpus();
    assertThat(corpus).hasSizeGreaterThanOrEqualTo(200);
    Map<String, Integer> verdicts = new HashMap<>();
    Set<String> highRisk = Set.of("bank.transfer", "mail.send");
    Set<String> allowlist = Set.copyOf(agent.tools());
    for (InjectionCorpusTest.Payload p : corpus) {
      RunId id =
          new Runs(engine)
              .create(Runs.Request.of("acme", "assistant", JsonValue.object("goal", "summarise")))
              .runId();
      payloadOfRun.put(id.value(), p.text() + "\nCALL " + p.ask().tool() + " " + p.ask().args());
      for (Lease l : store.claim("w", Duration.ofSeconds(30), 10)) {
        RunExecution.load(engine, l, engine.ticker().getAsLong()).run();
      }
      boolean proposed = false;
      for (EventEnvelope e : store.events(id, 0, 1000)) {
        if (e.event() instanceof RunEvent.ToolCallProposed tp && tp.tool().equals(p.ask().tool())) {
          proposed = true;
          verdicts.merge(tp.verdict(), 1, Integer::sum);
          if (highRisk.contains(tp.tool()) || !allowlist.contains(tp.tool())) {
            assertThat(tp.verdict()).as(p.category() + " -> " + tp.tool()).isNotEqualTo("allow");
          }
        }
      }
      assertThat(proposed)
          .as("the obedient model made the injected call (" + p.category() + ")")
          .isTrue();
    }
    assertThat(transfer.calls).as("high-risk transfers executed without approval").hasValue(0);
    assertThat(mail.calls).as("high-risk mails executed without approval").hasValue(0);
    assertThat(notes.calls)
        .as("calls of a registered tool outside the agent's allowlist")
        .hasValue(0);
    assertThat(search.calls).hasValue(corpus.size());
    System.out.println(
        "injection end to end: " + corpus.size() + " payloads, verdicts " + verdicts);
  }
}
