package dev.keel.tools;

import dev.keel.json.JsonValue;
import dev.keel.run.Hashes;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import dev.keel.tools.schema.JsonSchema;
import dev.keel.tools.schema.Violation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Wraps any {@link ContractedTool} with the governed layer's execution controls; this is the {@link
 * dev.keel.tool.Tool} the engine invokes.
 *
 * <p>Implementation notes: one call goes through these steps, and the delegate runs only after all
 * the checks before it passed.
 *
 * <ol>
 *   <li>Validate the arguments against the input schema (again: the policy did too, but an
 *       approver's edit or a bug must not slip through). Invalid: {@code invalid_arguments}.
 *   <li>Rate limits per tool and per (tool, tenant); concurrency per tool and per (tool, tenant),
 *       refused at once rather than queued ({@code rate_limited}, {@code concurrency_limited}).
 *   <li>Per try: ask the circuit breaker ({@code circuit_open}), run the delegate on a virtual
 *       thread bounded by the spec's timeout (on expiry the thread is interrupted, which HTTP and
 *       CLI tools turn into closing the socket or killing the process tree), and report the outcome
 *       to the breaker. Timeouts and retryable failures count against the tool.
 *   <li>Retry with exponential backoff and jitter only if the failure is retryable and the tool is
 *       idempotent by nature or honours the idempotency key, which stays the same on every try.
 *   <li>Normalize: a success must match the output schema; output above the cap is stored whole as
 *       an artifact and replaced by a truncated preview with a marker; secrets the deployment knows
 *       are masked in what returns.
 * </ol>
 *
 * Every try is audited (started, finished) with redacted arguments and results, as is every
 * refusal.
 */
public final class GovernedTool implements ContractedTool {
  private final ContractedTool delegate;
  private final ToolContract contract;
  private final ToolRuntime runtime;
  private final JsonSchema input;
  private final JsonSchema output;
  private final CircuitBreaker breaker;
  private final RateLimiter rates;
  private final Semaphore toolSlots;
  private final ConcurrentMap<String, Semaphore> tenantSlots = new ConcurrentHashMap<>();

  /**
   * Wraps {@code delegate}. Compiles both schemas, refusing any that breaks the 2020-12
   * meta-schema.
   */
  public GovernedTool(ContractedTool delegate, ToolRuntime runtime) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.contract = delegate.contract();
    this.runtime = Objects.requireNonNull(runtime, "runtime");
    String name = contract.name();
    JsonValue.JsonObject in = contract.spec().inputSchema();
    if (!in.string("type").filter("object"::equals).isPresent()) {
      throw new IllegalArgumentException(
          "tool "
              + name
              + ": inputSchema must have \"type\": \"object\" (arguments are an object)");
    }
    this.input = JsonSchema.compile("tool " + name + " inputSchema", in);
    this.output = JsonSchema.compile("tool " + name + " outputSchema", contract.outputSchema());
    this.breaker =
        new CircuitBreaker(
            name,
            runtime.breaker(),
            runtime.clock(),
            t ->
                runtime
                    .audit()
                    .record(
                        new ToolAuditEvent.BreakerTransitioned(
                            t.at(), t.tool(), t.from().name(), t.to().name())));
    this.rates = new RateLimiter(runtime.clock());
    this.toolSlots = new Semaphore(contract.limits().maxConcurrentPerTool());
  }

  @Override
  public ToolContract contract() {
    return contract;
  }

  @Override
  public ToolSpec spec() {
    return contract.spec();
  }

  /** The compiled input schema. */
  public JsonSchema inputSchema() {
    return input;
  }

  /** The tool's circuit breaker, for health reporting. */
  public CircuitBreaker breaker() {
    return breaker;
  }

  /** Checks {@code arguments} against the input schema; empty means valid. */
  public List<Violation> validate(JsonValue.JsonObject arguments) {
    return input.validate(arguments);
  }

  @Override
  public ToolResult invoke(ToolInvocation inv) throws InterruptedException {
    List<Violation> violations = input.validate(inv.arguments());
    if (!violations.isEmpty()) {
      return refuse(
          inv,
          new ToolResult.Failure(
              "invalid_arguments",
              false,
              "arguments do not match the input schema of "
                  + contract.name()
                  + ": "
                  + String.join("; ", violations.stream().map(Violation::render).toList()),
              "Fix the arguments at the JSON pointers shown and call again."));
    }
    Limits limits = contract.limits();
    String tenantKey = contract.name() + "@" + inv.tenant();
    Duration wait = rates.tryAcquire(tenantKey, limits.perTenant());
    if (wait.isZero()) {
      wait = rates.tryAcquire(contract.name(), limits.perTool());
      if (!wait.isZero()) {
        rates.refund(tenantKey, limits.perTenant());
      }
    }
    if (!wait.isZero()) {
      return refuse(
          inv,
          new ToolResult.Failure(
              "rate_limited",
              true,
              "rate limit of "
                  + contract.name()
                  + " reached; next permit in "
                  + wait.toMillis()
                  + " ms",
              "Wait at least "
                  + wait.toMillis()
                  + " ms before calling "
                  + contract.name()
                  + " again."));
    }
    Semaphore tenant =
        tenantSlots.computeIfAbsent(
            inv.tenant(), t -> new Semaphore(limits.maxConcurrentPerTenant()));
    if (!toolSlots.tryAcquire()) {
      return refuse(inv, concurrencyFailure("the tool"));
    }
    try {
      if (!tenant.tryAcquire()) {
        return refuse(inv, concurrencyFailure("this tenant"));
      }
      try {
        return normalize(inv, withRetries(inv));
      } finally {
        tenant.release();
      }
    } finally {
      toolSlots.release();
    }
  }

  private ToolResult.Failure concurrencyFailure(String who) {
    return new ToolResult.Failure(
        "concurrency_limited",
        true,
        "too many calls of " + contract.name() + " in flight for " + who,
        "Wait for earlier calls to finish, then call again.");
  }

  private ToolResult withRetries(ToolInvocation first) throws InterruptedException {
    RetryPolicy retry = contract.retry();
    boolean mayRetry = contract.spec().idempotency().safeToRetry();
    int tries = 0;
    int attempt = first.attempt();
    while (true) {
      tries++;
      if (!breaker.tryAcquire()) {
        return refuse(
            first,
            new ToolResult.Failure(
                "circuit_open",
                true,
                "calls of " + contract.name() + " are paused after repeated failures",
                "Try again later or use another tool."));
      }
      ToolInvocation inv =
          new ToolInvocation(
              first.tenant(),
              first.runId(),
              first.callId(),
              first.idempotencyKey(),
              first.arguments(),
              attempt);
      ToolResult result = once(inv);
      boolean countsAgainst =
          result instanceof ToolResult.Failure f && (f.retryable() || f.type().equals("timeout"));
      if (result instanceof ToolResult.Success) {
        breaker.onSuccess();
      } else if (countsAgainst) {
        breaker.onFailure();
      } else {
        breaker.onIgnored();
      }
      if (result instanceof ToolResult.Failure f
          && f.retryable()
          && mayRetry
          && tries < retry.maxAttempts()) {
        runtime.sleeper().sleep(retry.backoff(tries + 1, runtime.random().nextDouble()));
        attempt++;
        continue;
      }
      return result;
    }
  }

  private ToolResult once(ToolInvocation inv) throws InterruptedException {
    Instant start = runtime.clock().instant();
    runtime
        .audit()
        .record(
            new ToolAuditEvent.CallStarted(
                start,
                inv.tenant(),
                inv.runId(),
                inv.callId(),
                contract.name(),
                inv.attempt(),
                runtime.redactor().redact(inv.arguments())));
    ToolResult result = runBounded(inv);
    Instant end = runtime.clock().instant();
    runtime
        .audit()
        .record(
            new ToolAuditEvent.CallFinished(
                end,
                inv.tenant(),
                inv.runId(),
                inv.callId(),
                contract.name(),
                inv.attempt(),
                result instanceof ToolResult.Success ? "ok" : "error",
                runtime.redactor().redact(auditView(result)),
                Duration.between(start, end).toMillis()));
    return result;
  }

  private static JsonValue auditView(ToolResult result) {
    return switch (result) {
      case ToolResult.Success s -> s.data();
      case ToolResult.Failure f ->
          JsonValue.object("type", f.type(), "retryable", f.retryable(), "message", f.message());
    };
  }

  private ToolResult runBounded(ToolInvocation inv) throws InterruptedException {
    AtomicReference<ToolResult> result = new AtomicReference<>();
    AtomicReference<Exception> error = new AtomicReference<>();
    Thread worker =
        Thread.ofVirtual()
            .name("tool-" + contract.name() + "-" + inv.callId())
            .start(
                () -> {
                  try {
                    result.set(delegate.invoke(inv));
                  } catch (Exception e) {
                    error.set(e);
                  }
                });
    Duration timeout = contract.spec().timeout();
    boolean finished;
    try {
      finished = worker.join(timeout);
    } catch (InterruptedException e) {
      worker.interrupt();
      throw e;
    }
    if (!finished) {
      worker.interrupt();
      boolean safe = contract.spec().idempotency().safeToRetry();
      return new ToolResult.Failure(
          "timeout",
          safe,
          contract.name()
              + " did not finish within "
              + timeout.toMillis()
              + " ms and was stopped"
              + (safe ? "" : "; its outcome is unknown (" + contract.spec().unknownOutcome() + ")"),
          safe ? "Call again later, perhaps with a smaller request." : "Do not repeat the call.");
    }
    Exception e = error.get();
    if (e instanceof InterruptedException) {
      return new ToolResult.Failure(
          "interrupted", true, contract.name() + " was interrupted", "Call again.");
    }
    if (e != null) {
      return new ToolResult.Failure(
          "tool_error",
          false,
          contract.name() + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
          "Report the failure; do not repeat the same call.");
    }
    ToolResult r = result.get();
    if (r == null) {
      return new ToolResult.Failure(
          "tool_error", false, contract.name() + " returned no result", "Report the failure.");
    }
    return r;
  }

  private ToolResult normalize(ToolInvocation inv, ToolResult result) {
    Redactor redactor = runtime.redactor();
    return switch (result) {
      case ToolResult.Failure f ->
          new ToolResult.Failure(
              f.type(),
              f.retryable(),
              redactor.redactValues(f.message()),
              redactor.redactValues(f.suggestedNextAction()));
      case ToolResult.Success s -> {
        List<Violation> bad = output.validate(s.data());
        if (!bad.isEmpty()) {
          yield new ToolResult.Failure(
              "invalid_output",
              false,
              contract.name()
                  + " returned data that does not match its output schema: "
                  + String.join("; ", bad.stream().map(Violation::render).toList()),
              "Report the failure; the tool is misbehaving.");
        }
        yield new ToolResult.Success(capped(inv, redactor.redactValues(s.data())));
      }
    };
  }

  private JsonValue capped(ToolInvocation inv, JsonValue data) {
    String text = data.toString();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int cap = contract.maxOutputBytes();
    if (bytes.length <= cap) {
      return data;
    }
    String ref =
        runtime
            .artifacts()
            .store(inv.tenant(), inv.runId(), inv.callId(), "application/json", bytes);
    int previewChars = Math.min(text.length(), Math.max(64, cap / 2));
    return JsonValue.object(
        "truncated",
        true,
        "marker",
        "[output truncated: "
            + bytes.length
            + " bytes over the "
            + cap
            + "-byte cap; the whole output is stored as "
            + ref
            + "]",
        "preview",
        text.substring(0, previewChars),
        "artifact",
        ref,
        "original_bytes",
        (long) bytes.length,
        "sha256",
        Hashes.sha256(text));
  }

  private ToolResult refuse(ToolInvocation inv, ToolResult.Failure failure) {
    runtime
        .audit()
        .record(
            new ToolAuditEvent.CallDenied(
                runtime.clock().instant(),
                inv.tenant(),
                inv.runId(),
                inv.callId(),
                contract.name(),
                failure.type() + ": " + runtime.redactor().redactValues(failure.message())));
    return failure;
  }
}
