package dev.keel.engine;

import dev.keel.run.RunHeader;
import dev.keel.run.ToolCallState;
import dev.keel.tool.ToolInvocation;
import java.util.Optional;

/**
 * The last check before the engine executes a ready tool call: a second lock for calls that a
 * person approved, independent of the check made when the approval was decided. A refused call is
 * recorded as failed ({@code execution_refused}) and never invoked.
 */
@FunctionalInterface
public interface ExecutionGate {

  /** Lets every call through, as an engine without approval binding does. */
  ExecutionGate ALLOW = (run, call, invocation) -> Optional.empty();

  /**
   * Empty to execute {@code invocation} of {@code call}; otherwise why it must not run.
   *
   * @param run the run's header
   * @param call the call as the run's state holds it (with its approval id, if it was approved)
   * @param invocation exactly what would be passed to the tool
   */
  Optional<String> refuse(RunHeader run, ToolCallState call, ToolInvocation invocation);
}
