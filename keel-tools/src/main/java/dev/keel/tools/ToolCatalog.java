package dev.keel.tools;

import dev.keel.tool.Tool;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The tools of one deployment. Registration wraps each tool in a {@link GovernedTool}, which checks
 * both schemas against the 2020-12 meta-schema, and refuses duplicates and compensations that are
 * not registered. {@link #forRun} filters the catalog for one run and builds its policy.
 */
public final class ToolCatalog {
  /**
   * How many invalid proposals of one tool a run gets back as errors before the tool is refused.
   */
  public static final int DEFAULT_MAX_INVALID_ATTEMPTS = 3;

  private final ToolRuntime runtime;
  private final Map<String, GovernedTool> tools;

  /**
   * Registers {@code tools}.
   *
   * @throws IllegalArgumentException naming the tool and the problem, for an invalid schema, a
   *     duplicate name or a missing compensation tool
   */
  public ToolCatalog(Collection<? extends ContractedTool> tools, ToolRuntime runtime) {
    this.runtime = Objects.requireNonNull(runtime, "runtime");
    Map<String, GovernedTool> byName = new LinkedHashMap<>();
    for (ContractedTool t : tools) {
      GovernedTool governed = t instanceof GovernedTool g ? g : new GovernedTool(t, runtime);
      if (byName.putIfAbsent(t.contract().name(), governed) != null) {
        throw new IllegalArgumentException(
            "tool '" + t.contract().name() + "' is registered twice");
      }
    }
    this.tools = byName;
    new ToolRegistry(byName.values());
  }

  /** The governed tool named {@code name}, if registered. */
  public Optional<GovernedTool> find(String name) {
    return Optional.ofNullable(tools.get(name));
  }

  /** Every registered tool, governed, in registration order. */
  public Collection<GovernedTool> all() {
    return tools.values();
  }

  /** Every registered tool, governed, as the core registry the engine takes. */
  public ToolRegistry registry() {
    return new ToolRegistry(tools.values());
  }

  /**
   * A deployment-wide policy for an engine that holds one {@link ToolPolicy} for all runs: each
   * call is decided as {@link #forRun} would for the profile {@code profiles} gives the call's
   * tenant (tier, locale, flags, scopes), with the agent policy {@code agent}. Without a run it
   * cannot bound invalid proposals per run (the engine's step cap does); prefer {@link #forRun}
   * where the engine can build a policy per run.
   */
  public ToolPolicy deploymentPolicy(Function<String, RunProfile> profiles, AgentToolPolicy agent) {
    Objects.requireNonNull(profiles, "profiles");
    Objects.requireNonNull(agent, "agent");
    return (tenant, spec, arguments) ->
        forRun(profiles.apply(tenant), agent, Integer.MAX_VALUE)
            .policy()
            .decide(tenant, spec, arguments);
  }

  /** Filters the catalog for a run with the default bound on invalid proposals. */
  public RunTools forRun(RunProfile profile, AgentToolPolicy agent) {
    return forRun(profile, agent, DEFAULT_MAX_INVALID_ATTEMPTS);
  }

  /**
   * Filters the catalog for a run: the tools whose availability admits {@code profile}, the policy
   * that decides their calls (everything else is denied), and the versions to record.
   */
  public RunTools forRun(RunProfile profile, AgentToolPolicy agent, int maxInvalidAttempts) {
    Map<String, GovernedTool> allowed = new LinkedHashMap<>();
    for (GovernedTool t : tools.values()) {
      if (t.contract().availability().admits(profile)) {
        allowed.put(t.contract().name(), t);
      }
    }
    List<Tool> executable = new ArrayList<>(allowed.values());
    for (GovernedTool t : allowed.values()) {
      t.spec()
          .compensation()
          .filter(c -> !allowed.containsKey(c))
          .map(tools::get)
          .filter(c -> !executable.contains(c))
          .ifPresent(executable::add);
    }
    Map<String, String> versions = new LinkedHashMap<>();
    allowed.forEach((name, t) -> versions.put(name, t.spec().version()));
    return new RunTools(
        profile,
        new ToolRegistry(executable),
        new RiskPolicy(profile, allowed, agent, maxInvalidAttempts, runtime),
        versions);
  }
}
