package dev.keel.tool;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The tools a deployment knows, by name. Registering the same name twice is an error. */
public final class ToolRegistry {
  private final Map<String, Tool> tools = new LinkedHashMap<>();

  /** Creates a registry of {@code tools}. */
  public ToolRegistry(Collection<? extends Tool> tools) {
    for (Tool t : tools) {
      if (this.tools.putIfAbsent(t.spec().name(), t) != null) {
        throw new IllegalArgumentException("tool '" + t.spec().name() + "' is registered twice");
      }
    }
    for (Tool t : tools) {
      t.spec()
          .compensation()
          .filter(c -> !this.tools.containsKey(c))
          .ifPresent(
              c -> {
                throw new IllegalArgumentException(
                    "tool '"
                        + t.spec().name()
                        + "' names compensation '"
                        + c
                        + "', which is not registered");
              });
    }
  }

  /** Returns the tool named {@code name}, if registered. */
  public Optional<Tool> find(String name) {
    return Optional.ofNullable(tools.get(name));
  }

  /** Returns every registered tool, in registration order. */
  public Collection<Tool> all() {
    return tools.values();
  }
}
