package dev.keel.tools.java;

import dev.keel.json.JsonValue;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.ContractedTool;
import dev.keel.tools.ToolContract;
import java.util.Objects;

/**
 * A tool written in Java: a value made of a contract and a handler. Register it in a {@link
 * dev.keel.tools.ToolCatalog}, which wraps it with the execution controls.
 */
public final class JavaTool implements ContractedTool {

  /** The code behind a Java tool. */
  @FunctionalInterface
  public interface Handler {
    /** Performs the call; expected failures are returned, not thrown. */
    ToolResult handle(ToolInvocation invocation) throws InterruptedException;
  }

  /** A handler of typed arguments that returns data. */
  @FunctionalInterface
  public interface TypedHandler<A extends Record> {
    /** Performs the call with the arguments bound to {@code A}. */
    JsonValue handle(A arguments, ToolInvocation invocation) throws InterruptedException;
  }

  private final ToolContract contract;
  private final Handler handler;

  private JavaTool(ToolContract contract, Handler handler) {
    this.contract = Objects.requireNonNull(contract, "contract");
    this.handler = Objects.requireNonNull(handler, "handler");
  }

  /** A tool of {@code contract} handled by {@code handler}. */
  public static JavaTool of(ToolContract contract, Handler handler) {
    return new JavaTool(contract, handler);
  }

  /**
   * A tool whose arguments are bound to the record {@code type} before {@code handler} runs. The
   * contract's input schema still governs validation; binding failures become {@code
   * invalid_arguments}.
   */
  public static <A extends Record> JavaTool typed(
      ToolContract contract, Class<A> type, TypedHandler<A> handler) {
    RecordArguments.check(type);
    return new JavaTool(
        contract,
        inv -> {
          A args;
          try {
            args = RecordArguments.bind(inv.arguments(), type);
          } catch (IllegalArgumentException e) {
            return new ToolResult.Failure(
                "invalid_arguments", false, e.getMessage(), "Fix the arguments and call again.");
          }
          return new ToolResult.Success(handler.handle(args, inv));
        });
  }

  @Override
  public ToolContract contract() {
    return contract;
  }

  @Override
  public ToolResult invoke(ToolInvocation invocation) throws InterruptedException {
    return handler.handle(invocation);
  }
}
