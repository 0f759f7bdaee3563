package dev.keel.model;

import java.util.Objects;

/**
 * What the engine tells a provider about a call it makes for a run, so a routing provider can
 * choose by tenant and budget and attribute the cost.
 *
 * @param tenant the run's tenant
 * @param runId the run
 * @param agent the agent's name
 * @param step the step the call answers
 * @param costBudgetMicros what is left of the run's cost budget, in micro-dollars
 */
public record ModelCallContext(
    String tenant, String runId, String agent, int step, long costBudgetMicros) {
  /** Checks the fields are present. */
  public ModelCallContext {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(agent, "agent");
  }
}
