package dev.keel.agent;

import dev.keel.run.Budget;
import java.util.List;
import java.util.Objects;

/**
 * An agent definition as the engine needs it.
 *
 * @param name the agent's name, such as {@code support-triage}
 * @param version the definition's version; a changed definition is a new version
 * @param instructions the system instructions
 * @param model the model name the gateway routes
 * @param tools the names of the tools the agent may call
 * @param budget the default budget of a run of this agent
 * @param maxOutputTokens the output allowance of each model call
 */
public record AgentSpec(
    String name,
    String version,
    String instructions,
    String model,
    List<String> tools,
    Budget budget,
    int maxOutputTokens) {

  /** Validates the fields and copies the tool list. */
  public AgentSpec {
    if (name == null || !name.matches("[a-z0-9][a-z0-9_.-]{0,63}")) {
      throw new IllegalArgumentException(
          "agent name '" + name + "' must be 1-64 lower-case letters, digits, '-', '_' or '.'");
    }
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(instructions, "instructions");
    Objects.requireNonNull(model, "model");
    tools = List.copyOf(tools);
    Objects.requireNonNull(budget, "budget");
    if (maxOutputTokens < 1) {
      throw new IllegalArgumentException("agent " + name + ": maxOutputTokens must be positive");
    }
  }
}
