package dev.keel.tool;

/**
 * A tool the engine can call. Implementations must honour {@link ToolSpec#idempotency()}: a tool
 * declared {@link Idempotency#KEYED} must treat a repeat of {@link ToolInvocation#idempotencyKey()}
 * as a no-op that returns the first result.
 */
public interface Tool {

  /** What the tool declares about itself. */
  ToolSpec spec();

  /**
   * Performs the call. Expected failures are returned as {@link ToolResult.Failure}; exceptions
   * mean a bug or broken infrastructure.
   */
  ToolResult invoke(ToolInvocation invocation) throws InterruptedException;
}
