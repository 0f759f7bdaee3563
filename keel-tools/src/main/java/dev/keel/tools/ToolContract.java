package dev.keel.tools;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.Idempotency;
import dev.keel.tool.ToolSpec;
import dev.keel.tool.UnknownOutcomePolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything a governed tool declares: the core {@link ToolSpec} (name, version, description, input
 * schema, risk, idempotency, unknown-outcome policy, compensation, timeout) plus what the governed
 * layer enforces on top.
 *
 * @param spec the core spec the engine sees
 * @param outputSchema JSON Schema 2020-12 of successful results' data
 * @param retry how failed calls are retried
 * @param approval when calls need approval beyond the risk level
 * @param requiredScopes scopes a run must hold to call the tool
 * @param limits rate and concurrency limits
 * @param availability which runs may see the tool
 * @param maxOutputBytes output above this (canonical JSON, UTF-8) is truncated and kept whole as an
 *     artifact
 */
public record ToolContract(
    ToolSpec spec,
    JsonObject outputSchema,
    RetryPolicy retry,
    ApprovalPolicy approval,
    Set<String> requiredScopes,
    Limits limits,
    Availability availability,
    int maxOutputBytes) {

  private static final Pattern SCOPE = Pattern.compile("[a-z][a-z0-9_.:-]{0,63}");

  /** Validates the fields against each other. */
  public ToolContract {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(outputSchema, "outputSchema");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(approval, "approval");
    requiredScopes = Set.copyOf(Objects.requireNonNull(requiredScopes, "requiredScopes"));
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(availability, "availability");
    for (String s : requiredScopes) {
      if (!SCOPE.matcher(s).matches()) {
        throw new IllegalArgumentException(
            "tool " + spec.name() + ": requiredScopes entry '" + s + "' is not a valid scope");
      }
    }
    if (maxOutputBytes < 256) {
      throw new IllegalArgumentException(
          "tool " + spec.name() + ": maxOutputBytes must be >= 256, got " + maxOutputBytes);
    }
    if (retry.maxAttempts() > 1 && !spec.idempotency().safeToRetry()) {
      throw new IllegalArgumentException(
          "tool "
              + spec.name()
              + ": retry.maxAttempts is "
              + retry.maxAttempts()
              + " but idempotency is NONE; retries need a NATURAL or KEYED tool");
    }
  }

  /** The tool's name. */
  public String name() {
    return spec.name();
  }

  /** Starts a contract for {@code name} with safe defaults (see {@link Builder}). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /**
   * Builds a contract. Defaults: risk 0, idempotent by nature, 30 s timeout, no retries, approval
   * by risk, no scopes, default limits, available to nobody, 64 KiB output, any output.
   */
  public static final class Builder {
    private final ToolSpec.Builder spec;
    private JsonObject outputSchema = JsonValue.EMPTY_OBJECT;
    private RetryPolicy retry = RetryPolicy.NONE;
    private ApprovalPolicy approval = ApprovalPolicy.BY_RISK;
    private Set<String> requiredScopes = Set.of();
    private Limits limits = Limits.DEFAULT;
    private Availability availability = Availability.NOBODY;
    private int maxOutputBytes = 64 * 1024;

    private Builder(String name) {
      this.spec = ToolSpec.builder(name);
    }

    /** Sets the version. */
    public Builder version(String v) {
      spec.version(v);
      return this;
    }

    /** Sets the description shown to the model. */
    public Builder description(String d) {
      spec.description(d);
      return this;
    }

    /** Sets the input JSON Schema. */
    public Builder inputSchema(JsonObject s) {
      spec.inputSchema(s);
      return this;
    }

    /** Sets the output JSON Schema. */
    public Builder outputSchema(JsonObject s) {
      this.outputSchema = s;
      return this;
    }

    /** Sets the risk level 0..4. */
    public Builder riskLevel(int r) {
      spec.riskLevel(r);
      return this;
    }

    /** Sets the idempotency. */
    public Builder idempotency(Idempotency i) {
      spec.idempotency(i);
      return this;
    }

    /** Sets what to do with an unknown outcome. */
    public Builder unknownOutcome(UnknownOutcomePolicy p) {
      spec.unknownOutcome(p);
      return this;
    }

    /** Names the compensation tool (implies {@link UnknownOutcomePolicy#COMPENSATE}). */
    public Builder compensation(String toolName) {
      spec.compensation(toolName);
      return this;
    }

    /** Sets the timeout of one try. */
    public Builder timeout(Duration t) {
      spec.timeout(t);
      return this;
    }

    /** Sets the retry policy. */
    public Builder retry(RetryPolicy r) {
      this.retry = r;
      return this;
    }

    /** Sets the approval policy. */
    public Builder approval(ApprovalPolicy a) {
      this.approval = a;
      return this;
    }

    /** Sets the scopes a run must hold. */
    public Builder requiredScopes(String... scopes) {
      this.requiredScopes = Set.of(scopes);
      return this;
    }

    /** Sets the rate and concurrency limits. */
    public Builder limits(Limits l) {
      this.limits = l;
      return this;
    }

    /** Sets which runs may see the tool. */
    public Builder availability(Availability a) {
      this.availability = a;
      return this;
    }

    /** Sets the output size cap in bytes. */
    public Builder maxOutputBytes(int n) {
      this.maxOutputBytes = n;
      return this;
    }

    /** Builds and validates the contract. */
    public ToolContract build() {
      return new ToolContract(
          spec.build(),
          outputSchema,
          retry,
          approval,
          requiredScopes,
          limits,
          availability,
          maxOutputBytes);
    }
  }
}
