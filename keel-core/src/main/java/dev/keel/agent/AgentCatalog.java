package dev.keel.agent;

import java.util.List;
import java.util.Optional;

/** Where the engine finds agent definitions. A run pins the exact version it started with. */
public interface AgentCatalog {

  /** Returns the newest version of the agent named {@code name}. */
  Optional<AgentSpec> latest(String name);

  /** Returns the exact {@code version} of the agent named {@code name}. */
  Optional<AgentSpec> find(String name, String version);

  /** Returns the newest version of every agent. */
  List<AgentSpec> all();

  /** A catalog of fixed definitions; later entries of the same name are newer versions. */
  static AgentCatalog of(List<AgentSpec> specs) {
    List<AgentSpec> copy = List.copyOf(specs);
    return new AgentCatalog() {
      @Override
      public Optional<AgentSpec> latest(String name) {
        return copy.reversed().stream().filter(a -> a.name().equals(name)).findFirst();
      }

      @Override
      public Optional<AgentSpec> find(String name, String version) {
        return copy.stream()
            .filter(a -> a.name().equals(name) && a.version().equals(version))
            .findFirst();
      }

      @Override
      public List<AgentSpec> all() {
        return copy.stream().map(a -> latest(a.name()).orElseThrow()).distinct().toList();
      }
    };
  }
}
