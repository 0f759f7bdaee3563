package dev.keel.testkit.store;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.agent.StoredAgents;
import dev.keel.store.AgentDefinitions;
import dev.keel.store.AgentDefinitions.Stored;
import dev.keel.testkit.InMemoryAgentDefinitions;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryAgentDefinitionsTest extends AgentDefinitionsContract {
  @Override
  protected AgentDefinitions newDefinitions() {
    return new InMemoryAgentDefinitions();
  }

  @Test
  void aStoredDefinitionThatDoesNotMatchItsHashIsRefusedOnRead() {
    AgentDefinitions d = newDefinitions();
    AgentSpec a = rich("tampered");
    d.save(
        new Stored(
            a.name(),
            a.version(),
            a.contentHash(),
            a.canonical().toString().replace("politely", "rudely")));
    StoredAgents elsewhere = StoredAgents.over(AgentCatalog.of(List.of()), d);
    assertThatThrownBy(() -> elsewhere.find(a.name(), a.version()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stored agent tampered version " + a.version())
        .hasMessageContaining("does not match its content hash");
  }
}
