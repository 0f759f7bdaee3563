package dev.keel.tools;

import java.util.Objects;
import java.util.Set;

/**
 * What an agent's own policy says about approvals: which level-3 tools it may call without a
 * person. Level-4 tools can never be waived.
 *
 * @param waiveLevel3 every level-3 tool runs without approval
 * @param waivedTools level-3 tools that run without approval
 */
public record AgentToolPolicy(boolean waiveLevel3, Set<String> waivedTools) {

  /** The strict default: nothing waived. */
  public static final AgentToolPolicy STRICT = new AgentToolPolicy(false, Set.of());

  /** Copies the set. */
  public AgentToolPolicy {
    waivedTools = Set.copyOf(Objects.requireNonNull(waivedTools, "waivedTools"));
  }

  /** Whether a level-3 call of {@code tool} may run without approval. */
  public boolean waives(String tool) {
    return waiveLevel3 || waivedTools.contains(tool);
  }
}
