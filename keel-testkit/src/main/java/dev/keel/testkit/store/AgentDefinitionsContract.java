package dev.keel.testkit.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.agent.ResponseProfile;
import dev.keel.agent.StoredAgents;
import dev.keel.json.JsonValue;
import dev.keel.run.Budget;
import dev.keel.store.AgentDefinitions;
import dev.keel.store.AgentDefinitions.Stored;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link AgentDefinitions} shares: insert-if-absent, immutable versions, and a
 * full round trip of a definition through {@link StoredAgents}. Each adapter's test extends this
 * with {@link #newDefinitions()}; cases use fresh agent names, so a store may be shared.
 */
@Timeout(60)
public abstract class AgentDefinitionsContract {

  /** The definitions under test. */
  protected abstract AgentDefinitions newDefinitions();

  private static String name() {
    return "agent-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** A definition that sets every field away from its default. */
  public static AgentSpec rich(String name) {
    return AgentSpec.builder(name)
        .instructions("Triage {{ticket}} politely.\nQuote \"exactly\".", "7")
        .description("triages tickets")
        .model("openai:gpt-4o|anthropic:claude")
        .tools(List.of("crm.lookup", "mail.send"))
        .budget(new Budget(9, 8, 7, 123_456, Duration.ofSeconds(321)))
        .maxOutputTokens(777)
        .capabilities(Set.of("plan", "spawn", "ask_person", "finish"))
        .approvalOverrides(Map.of("mail.send", "always", "crm.lookup", "deny"))
        .profile("voice", new ResponseProfile(300, "plain", "spoken", 2, Set.of("audio", "text")))
        .profile("web", new ResponseProfile(5000, "table", "link"))
        .outputSchema(
            JsonValue.object(
                "type",
                "object",
                "required",
                List.of("priority"),
                "properties",
                Map.of("priority", Map.of("type", "string", "enum", List.of("low", "high")))))
        .acceptance(List.of("names the customer", "gives a priority"), 3)
        .maxRepairs(2)
        .ambiguityThreshold(0.75)
        .build();
  }

  private static Stored stored(AgentSpec a) {
    return new Stored(a.name(), a.version(), a.contentHash(), a.canonical().toString());
  }

  @Test
  void aSavedVersionIsFoundAndSavingItAgainChangesNothing() {
    AgentDefinitions d = newDefinitions();
    AgentSpec a = rich(name());
    assertThat(d.find(a.name(), a.version())).isEmpty();
    assertThat(d.save(stored(a))).isTrue();
    assertThat(d.save(stored(a))).isFalse();
    assertThat(d.find(a.name(), a.version())).contains(stored(a));
    assertThat(d.find(a.name(), "other")).isEmpty();
  }

  @Test
  void otherContentUnderAStoredVersionIsRefusedAndTheFirstStays() {
    AgentDefinitions d = newDefinitions();
    String n = name();
    AgentSpec first = AgentSpec.builder(n).version("1").instructions("one", "1").build();
    AgentSpec changed = AgentSpec.builder(n).version("1").instructions("two", "1").build();
    d.save(stored(first));
    assertThatThrownBy(() -> d.save(stored(changed)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("agent " + n + " version 1 is already stored with other content")
        .hasMessageContaining(first.contentHash())
        .hasMessageContaining("needs a new version");
    assertThat(d.find(n, "1")).contains(stored(first));
  }

  @Test
  void everyFieldOfADefinitionSurvivesTheStore() {
    AgentDefinitions d = newDefinitions();
    AgentSpec a = rich(name());
    StoredAgents.over(AgentCatalog.of(List.of(a)), d);
    // another process: nothing in memory, the version only in the store
    StoredAgents elsewhere = StoredAgents.over(AgentCatalog.of(List.of()), d);
    AgentSpec back = elsewhere.find(a.name(), a.version()).orElseThrow();
    assertThat(back).isEqualTo(a);
    assertThat(back.contentHash()).isEqualTo(a.contentHash());
    assertThat(elsewhere.latest(a.name())).isEmpty();
  }

  @Test
  void concurrentSavesOfOneVersionStoreItOnce() throws Exception {
    AgentDefinitions d = newDefinitions();
    AgentSpec a = rich(name());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(pool.submit(() -> d.save(stored(a))));
      }
      int stored = 0;
      for (Future<Boolean> f : results) {
        stored += f.get() ? 1 : 0;
      }
      assertThat(stored).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
