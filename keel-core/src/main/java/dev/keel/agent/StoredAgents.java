package dev.keel.agent;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.run.Hashes;
import dev.keel.store.AgentDefinitions;
import dev.keel.store.AgentDefinitions.Stored;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A catalog whose versions are kept in the store: every version it hands out for a new run is
 * stored first (insert-if-absent), and a version no longer in memory (after a restart, or on a
 * worker that never loaded that file) is read back from the store, its content hash verified.
 */
public final class StoredAgents implements AgentCatalog {
  private final AgentCatalog memory;
  private final AgentDefinitions store;
  private final Set<String> saved = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, AgentSpec> restored = new ConcurrentHashMap<>();

  private StoredAgents(AgentCatalog memory, AgentDefinitions store) {
    this.memory = memory;
    this.store = store;
  }

  /**
   * {@code memory} backed by {@code store}; the newest version of every agent in {@code memory} is
   * stored now.
   *
   * @throws IllegalStateException if a version is stored with other content
   */
  public static StoredAgents over(AgentCatalog memory, AgentDefinitions store) {
    StoredAgents a = new StoredAgents(memory, store);
    memory.all().forEach(a::register);
    return a;
  }

  /**
   * Stores {@code spec} unless its version is already stored with the same content.
   *
   * @throws IllegalStateException if its version is stored with other content
   */
  public void register(AgentSpec spec) {
    String key = spec.name() + "\n" + spec.version();
    if (saved.contains(key)) {
      return;
    }
    store.save(
        new Stored(spec.name(), spec.version(), spec.contentHash(), spec.canonical().toString()));
    saved.add(key);
  }

  @Override
  public Optional<AgentSpec> latest(String name) {
    Optional<AgentSpec> a = memory.latest(name);
    // a run may pin this version next: it is durable before any run names it
    a.ifPresent(this::register);
    return a;
  }

  @Override
  public Optional<AgentSpec> find(String name, String version) {
    Optional<AgentSpec> a = memory.find(name, version);
    if (a.isPresent()) {
      return a;
    }
    String key = name + "\n" + version;
    AgentSpec cached = restored.get(key);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<AgentSpec> fromStore = store.find(name, version).map(StoredAgents::decode);
    fromStore.ifPresent(s -> restored.put(key, s));
    return fromStore;
  }

  @Override
  public List<AgentSpec> all() {
    return memory.all();
  }

  private static AgentSpec decode(Stored s) {
    String where = "stored agent " + s.name() + " version " + s.version();
    if (!Hashes.sha256(s.definition()).equals(s.contentHash())) {
      throw new IllegalStateException(
          where + ": its definition does not match its content hash " + s.contentHash());
    }
    AgentSpec spec;
    try {
      spec =
          AgentSpec.fromCanonical(
              s.version(), JsonParser.parseObject(s.definition(), JsonLimits.TRUSTED));
    } catch (RuntimeException e) {
      throw new IllegalStateException(where + " cannot be read: " + e.getMessage(), e);
    }
    if (!spec.contentHash().equals(s.contentHash()) || !spec.name().equals(s.name())) {
      throw new IllegalStateException(where + " does not read back to the stored content");
    }
    return spec;
  }
}
