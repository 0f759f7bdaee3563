package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.testkit.ScriptedModel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The scripted provider reports an unlimited window, so packs are never fitted to a made-up one.
 */
class ScriptedWindowTest {

  @Test
  void aScriptedRunIsPackedForAnUnlimitedWindow() throws Exception {
    assertThat(ScriptedModel.of((r, s) -> text("x")).limits("any-model").contextWindow())
        .isEqualTo(Integer.MAX_VALUE);
    List<ModelRequest> seen = new CopyOnWriteArrayList<>();
    Harness h =
        new Harness(
            ScriptedModel.of(
                (req, step) -> {
                  seen.add(req);
                  return text("read it all");
                }),
            List.of(AgentSpec.builder("shop").instructions("You read.", "1").build()),
            EngineTest.BUDGET,
            FaultInjector.NONE,
            new Harness.InMemoryRunStoreFactory());
    // about 60,000 tokens: more than the 32,768-token window of ModelLimits.DEFAULT
    String goal = "word ".repeat(60_000);
    RunId id = h.start(goal);
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(seen.getFirst().messages())
        .anyMatch(m -> m instanceof Message.User u && u.text().contains(goal.strip()));
    JsonValue.JsonObject context =
        h.store.events(id, 0, 1000).stream()
            .map(EventEnvelope::event)
            .filter(RunEvent.DecisionRecorded.class::isInstance)
            .map(
                d ->
                    (JsonValue.JsonObject)
                        ((RunEvent.DecisionRecorded) d).summary().get("context").orElseThrow())
            .findFirst()
            .orElseThrow();
    assertThat(context.get("window")).contains(JsonValue.of((long) Integer.MAX_VALUE));
  }
}
