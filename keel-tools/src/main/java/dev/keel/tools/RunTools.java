package dev.keel.tools;

import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.util.Map;
import java.util.Objects;

/**
 * The tools of one run, as the engine needs them.
 *
 * @param profile the run they were chosen for
 * @param registry the governed tools the engine may invoke: the run's allowed tools plus the
 *     compensation tools they name (compensations run by the engine, never proposed by the model)
 * @param policy the run's policy; denies any tool not allowed in the run
 * @param versions tool name to version, to record with the run
 */
public record RunTools(
    RunProfile profile, ToolRegistry registry, ToolPolicy policy, Map<String, String> versions) {
  /** Checks every field is present and copies the versions. */
  public RunTools {
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(policy, "policy");
    versions = Map.copyOf(versions);
  }
}
