package dev.keel.testkit;

import dev.keel.store.AgentDefinitions;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** {@link AgentDefinitions} in a map: insert-if-absent and immutable, like the real stores. */
public final class InMemoryAgentDefinitions implements AgentDefinitions {
  private final ConcurrentMap<String, Stored> byKey = new ConcurrentHashMap<>();

  @Override
  public boolean save(Stored definition) {
    Stored before = byKey.putIfAbsent(definition.name() + "\n" + definition.version(), definition);
    if (before == null) {
      return true;
    }
    if (!before.contentHash().equals(definition.contentHash())) {
      throw AgentDefinitions.conflict(before, definition);
    }
    return false;
  }

  @Override
  public Optional<Stored> find(String name, String version) {
    return Optional.ofNullable(byKey.get(name + "\n" + version));
  }
}
