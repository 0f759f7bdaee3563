package dev.keel.bench;

import dev.keel.json.JsonValue;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.util.concurrent.atomic.AtomicLong;

/** The benchmark's tools: a keyed no-op, and a risk-3 tool that a person must approve first. */
final class BenchTools {
  /** The no-op tool's name. */
  static final String NOOP = "bench.noop";

  /** The gated tool's name. */
  static final String GATED = "bench.send_letter";

  private BenchTools() {}

  /** A keyed tool that does nothing and counts its calls: one call is one benchmark step. */
  static final class Noop implements Tool {
    private static final ToolSpec SPEC =
        ToolSpec.builder(NOOP)
            .description("does nothing; one call is one benchmark step")
            .riskLevel(0)
            .idempotency(Idempotency.KEYED)
            .build();
    private final AtomicLong calls = new AtomicLong();

    @Override
    public ToolSpec spec() {
      return SPEC;
    }

    @Override
    public ToolResult invoke(ToolInvocation invocation) {
      calls.incrementAndGet();
      return new ToolResult.Success(JsonValue.NULL);
    }

    /** How many calls it has answered. */
    long calls() {
      return calls.get();
    }
  }

  /**
   * A risk-3 tool (an external side effect), so the default policy asks a person first and the run
   * parks. The benchmark never approves, so it never runs.
   */
  static final class Gated implements Tool {
    private static final ToolSpec SPEC =
        ToolSpec.builder(GATED)
            .description("sends a letter; needs a person's approval")
            .riskLevel(3)
            .idempotency(Idempotency.KEYED)
            .build();

    @Override
    public ToolSpec spec() {
      return SPEC;
    }

    @Override
    public ToolResult invoke(ToolInvocation invocation) {
      throw new IllegalStateException("the benchmark never approves " + GATED);
    }
  }
}
