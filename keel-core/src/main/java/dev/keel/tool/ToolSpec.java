package dev.keel.tool;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a tool declares about itself. The engine relies on the idempotency and unknown-outcome
 * fields to keep side effects once; the policy relies on the risk level.
 *
 * @param name namespaced name such as {@code crm.get_account}
 * @param version the tool's version, recorded with every run that uses it
 * @param description what the tool does, shown to the model
 * @param inputSchema JSON Schema (2020-12) of the arguments
 * @param riskLevel 0 pure read, 1 local write, 2 external draft, 3 external side effect, 4
 *     high-risk side effect
 * @param idempotency how repeats behave
 * @param unknownOutcome what to do when a non-idempotent call may or may not have happened
 * @param compensation the tool to run for {@link UnknownOutcomePolicy#COMPENSATE}
 * @param timeout how long one call may take
 */
public record ToolSpec(
    String name,
    String version,
    String description,
    JsonObject inputSchema,
    int riskLevel,
    Idempotency idempotency,
    UnknownOutcomePolicy unknownOutcome,
    Optional<String> compensation,
    Duration timeout) {

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");

  /** Validates the name, risk level and policy fields. */
  public ToolSpec {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches() || name.length() > 64) {
      throw new IllegalArgumentException(
          "tool name '" + name + "' must be lower-case words joined by '.', like crm.get_account");
    }
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(inputSchema, "inputSchema");
    if (riskLevel < 0 || riskLevel > 4) {
      throw new IllegalArgumentException(
          "tool " + name + ": riskLevel must be 0..4, got " + riskLevel);
    }
    Objects.requireNonNull(idempotency, "idempotency");
    Objects.requireNonNull(unknownOutcome, "unknownOutcome");
    Objects.requireNonNull(compensation, "compensation");
    if (unknownOutcome == UnknownOutcomePolicy.COMPENSATE && compensation.isEmpty()) {
      throw new IllegalArgumentException(
          "tool " + name + ": unknownOutcome COMPENSATE needs a compensation tool name");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("tool " + name + ": timeout must be positive");
    }
  }

  /** Starts a spec with safe defaults: risk 0, idempotent by nature, 30 s timeout. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A small builder for the many optional fields. */
  public static final class Builder {
    private final String name;
    private String version = "1";
    private String description = "";
    private JsonObject inputSchema = JsonValue.object("type", "object");
    private int riskLevel;
    private Idempotency idempotency = Idempotency.NATURAL;
    private UnknownOutcomePolicy unknownOutcome = UnknownOutcomePolicy.ASK_PERSON;
    private Optional<String> compensation = Optional.empty();
    private Duration timeout = Duration.ofSeconds(30);

    private Builder(String name) {
      this.name = name;
    }

    /** Sets the version. */
    public Builder version(String v) {
      this.version = v;
      return this;
    }

    /** Sets the description. */
    public Builder description(String d) {
      this.description = d;
      return this;
    }

    /** Sets the input schema. */
    public Builder inputSchema(JsonObject s) {
      this.inputSchema = s;
      return this;
    }

    /** Sets the risk level (0..4). */
    public Builder riskLevel(int r) {
      this.riskLevel = r;
      return this;
    }

    /** Sets the idempotency. */
    public Builder idempotency(Idempotency i) {
      this.idempotency = i;
      return this;
    }

    /** Sets the unknown-outcome policy. */
    public Builder unknownOutcome(UnknownOutcomePolicy p) {
      this.unknownOutcome = p;
      return this;
    }

    /** Names the compensation tool (implies {@link UnknownOutcomePolicy#COMPENSATE}). */
    public Builder compensation(String toolName) {
      this.compensation = Optional.of(toolName);
      this.unknownOutcome = UnknownOutcomePolicy.COMPENSATE;
      return this;
    }

    /** Sets the timeout. */
    public Builder timeout(Duration t) {
      this.timeout = t;
      return this;
    }

    /** Builds and validates the spec. */
    public ToolSpec build() {
      return new ToolSpec(
          name,
          version,
          description,
          inputSchema,
          riskLevel,
          idempotency,
          unknownOutcome,
          compensation,
          timeout);
    }
  }
}
