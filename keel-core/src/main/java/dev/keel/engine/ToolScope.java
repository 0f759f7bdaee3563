package dev.keel.engine;

import dev.keel.run.RunHeader;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.util.Map;
import java.util.Objects;

/**
 * Chooses the tools and the policy of one run. The engine asks once per execution (after a load),
 * so a deployment can filter its catalog by the run's tenant and labels and give each run its own
 * policy object (for example one that counts invalid proposals per run).
 */
@FunctionalInterface
public interface ToolScope {

  /** The tools, policy and versions for the run described by {@code run}. */
  Bound forRun(RunHeader run);

  /**
   * The tools, policy and versions for the run whose state is {@code state}; a scope whose policy
   * counts something per run (such as invalid proposals) overrides this to seed it from the
   * recorded history, so a reload does not reset it. The default uses the header only.
   */
  default Bound forRun(dev.keel.run.RunState state) {
    return forRun(state.header());
  }

  /**
   * What a run may use.
   *
   * @param tools the tools the engine may invoke for the run
   * @param policy decides each call the run's model proposes
   * @param versions tool name to version, recorded with the run when not empty
   */
  record Bound(ToolRegistry tools, ToolPolicy policy, Map<String, String> versions) {
    /** Checks every part is present and copies the versions. */
    public Bound {
      Objects.requireNonNull(tools, "tools");
      Objects.requireNonNull(policy, "policy");
      versions = Map.copyOf(versions);
    }
  }

  /** The same tools and policy for every run; records no versions (the deployment's default). */
  static ToolScope fixed(ToolRegistry tools, ToolPolicy policy) {
    Bound b = new Bound(tools, policy, Map.of());
    return run -> b;
  }
}
