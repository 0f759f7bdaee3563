package dev.keel.agent;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Budget;
import dev.keel.run.Hashes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An agent definition as the engine needs it. A changed definition is a new version: {@link
 * #builder} derives the version from the {@linkplain #contentHash() content hash} of the canonical
 * definition unless one is given explicitly.
 *
 * @param name the agent's name, such as {@code support-triage}
 * @param version the definition's version; a changed definition is a new version
 * @param instructions the system instructions (the prompt template)
 * @param model the model name the gateway routes
 * @param tools the names of the tools the agent may call
 * @param budget the default budget of a run of this agent
 * @param maxOutputTokens the output allowance of each model call
 * @param description what the agent is for, for people and catalogs
 * @param promptVersion the version of the instructions, recorded by every run
 * @param capabilities what the loop offers the model beyond tools: {@code plan} ({@code
 *     keel.update_plan}), {@code ask_person} ({@code keel.ask_person}), {@code finish} ({@code
 *     keel.finish} and {@code keel.fail}), {@code spawn} ({@code keel.spawn_agent})
 * @param approvalOverrides tool name to {@code always} (every call needs a person) or {@code deny};
 *     overrides only tighten the policy, never loosen it
 * @param responseProfiles channel to how the agent answers there
 * @param outputSchema the JSON Schema the output's {@code data} must satisfy, if any
 * @param acceptanceCriteria what a draft answer must satisfy, checked by reflection
 * @param maxReflections how many reflection checks a run may make (0 turns reflection off)
 * @param maxRepairs how many times invalid output is sent back to the model for repair
 * @param ambiguityThreshold the confidence (0 to 1) a candidate must reach for the run to act on it
 *     alone; when the model or a tool reports several candidates and not exactly one reaches it,
 *     the run asks a person to choose. 0 turns ambiguity routing off
 */
public record AgentSpec(
    String name,
    String version,
    String instructions,
    String model,
    List<String> tools,
    Budget budget,
    int maxOutputTokens,
    String description,
    String promptVersion,
    Set<String> capabilities,
    Map<String, String> approvalOverrides,
    Map<String, ResponseProfile> responseProfiles,
    Optional<JsonObject> outputSchema,
    List<String> acceptanceCriteria,
    int maxReflections,
    int maxRepairs,
    double ambiguityThreshold) {

  /** The capabilities an agent can declare. */
  public static final Set<String> CAPABILITIES = Set.of("plan", "ask_person", "finish", "spawn");

  /** The approval overrides a tool can have. */
  public static final Set<String> OVERRIDES = Set.of("always", "deny");

  /** Validates the fields and copies the collections. */
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
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(promptVersion, "promptVersion");
    capabilities = Set.copyOf(new TreeSet<>(capabilities));
    for (String c : capabilities) {
      if (!CAPABILITIES.contains(c)) {
        throw new IllegalArgumentException(
            "agent " + name + ": unknown capability '" + c + "'; known: " + CAPABILITIES);
      }
    }
    approvalOverrides = Map.copyOf(approvalOverrides);
    approvalOverrides.forEach(
        (tool, o) -> {
          if (!OVERRIDES.contains(o)) {
            throw new IllegalArgumentException(
                "agent " + name + ": approval override of " + tool + " must be always or deny");
          }
        });
    responseProfiles = Map.copyOf(responseProfiles);
    for (String channel : responseProfiles.keySet()) {
      if (!ResponseProfile.CHANNELS.contains(channel)) {
        throw new IllegalArgumentException(
            "agent " + name + ": unknown channel '" + channel + "' in response profiles");
      }
    }
    Objects.requireNonNull(outputSchema, "outputSchema");
    acceptanceCriteria = List.copyOf(acceptanceCriteria);
    if (maxReflections < 0 || maxRepairs < 0) {
      throw new IllegalArgumentException(
          "agent " + name + ": max reflections and repairs must not be negative");
    }
    if (!(ambiguityThreshold >= 0 && ambiguityThreshold <= 1)) {
      throw new IllegalArgumentException(
          "agent "
              + name
              + ": ambiguity threshold must be between 0 and 1, got "
              + ambiguityThreshold);
    }
  }

  /** The definition before ambiguity routing: no threshold. */
  public AgentSpec(
      String name,
      String version,
      String instructions,
      String model,
      List<String> tools,
      Budget budget,
      int maxOutputTokens,
      String description,
      String promptVersion,
      Set<String> capabilities,
      Map<String, String> approvalOverrides,
      Map<String, ResponseProfile> responseProfiles,
      Optional<JsonObject> outputSchema,
      List<String> acceptanceCriteria,
      int maxReflections,
      int maxRepairs) {
    this(
        name,
        version,
        instructions,
        model,
        tools,
        budget,
        maxOutputTokens,
        description,
        promptVersion,
        capabilities,
        approvalOverrides,
        responseProfiles,
        outputSchema,
        acceptanceCriteria,
        maxReflections,
        maxRepairs,
        0);
  }

  /** The definition the engine had before versioned definitions: no extras. */
  public AgentSpec(
      String name,
      String version,
      String instructions,
      String model,
      List<String> tools,
      Budget budget,
      int maxOutputTokens) {
    this(
        name,
        version,
        instructions,
        model,
        tools,
        budget,
        maxOutputTokens,
        "",
        "1",
        Set.of(),
        Map.of(),
        Map.of(),
        Optional.empty(),
        List.of(),
        0,
        1,
        0);
  }

  /** Starts a definition named {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Whether the agent may use {@code capability}. */
  public boolean can(String capability) {
    return capabilities.contains(capability);
  }

  /** The response profile of {@code channel}, or the default. */
  public ResponseProfile profile(String channel) {
    return responseProfiles.getOrDefault(channel, ResponseProfile.DEFAULT);
  }

  /** The canonical JSON of the definition, without its version. */
  public JsonObject canonical() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("description", description);
    m.put("instructions", instructions);
    m.put("prompt_version", promptVersion);
    m.put("model", model);
    m.put("tools", tools);
    m.put(
        "budget",
        JsonValue.object(
            "max_steps", (long) budget.maxSteps(),
            "max_model_calls", (long) budget.maxModelCalls(),
            "max_tool_calls", (long) budget.maxToolCalls(),
            "max_cost_micros", budget.maxCostMicros(),
            "max_duration_s", budget.maxDuration().toSeconds()));
    m.put("max_output_tokens", (long) maxOutputTokens);
    m.put("capabilities", new ArrayList<>(new TreeSet<>(capabilities)));
    m.put("approval_overrides", new TreeMap<>(approvalOverrides));
    Map<String, Object> profiles = new TreeMap<>();
    responseProfiles.forEach(
        (c, p) -> {
          JsonObject o =
              JsonValue.object(
                  "max_chars",
                  (long) p.maxChars(),
                  "structure",
                  p.structure(),
                  "approval_style",
                  p.approvalStyle());
          if (!p.basic()) {
            // only profiles that use the newer settings carry them, so older hashes stay stable
            o =
                o.with("max_sentences", JsonValue.of((long) p.maxSentences()))
                    .with(
                        "modalities",
                        JsonValue.from(new ArrayList<>(new TreeSet<>(p.modalities()))));
          }
          profiles.put(c, o);
        });
    m.put("response_profiles", profiles);
    outputSchema.ifPresent(s -> m.put("output_schema", s));
    m.put("acceptance_criteria", acceptanceCriteria);
    m.put("max_reflections", (long) maxReflections);
    m.put("max_repairs", (long) maxRepairs);
    if (ambiguityThreshold > 0) {
      m.put("ambiguity_threshold", ambiguityThreshold);
    }
    return (JsonObject) JsonValue.from(m);
  }

  /**
   * The definition whose {@linkplain #canonical() canonical JSON} is {@code canonical}, at {@code
   * version}: the inverse of {@link #canonical()}, so {@code fromCanonical(v,
   * a.canonical()).equals(a.withVersion(v))} and the content hash is unchanged.
   *
   * @throws IllegalArgumentException naming the field if {@code canonical} is not such a definition
   */
  public static AgentSpec fromCanonical(String version, JsonObject canonical) {
    try {
      JsonObject b = obj(canonical, "budget");
      Map<String, ResponseProfile> profiles = new LinkedHashMap<>();
      obj(canonical, "response_profiles")
          .members()
          .forEach(
              (channel, v) -> {
                JsonObject p = asObj(v, "response_profiles." + channel);
                int chars = (int) num(p, "max_chars").longValueExact();
                String structure = str(p, "structure");
                String style = str(p, "approval_style");
                profiles.put(
                    channel,
                    p.get("max_sentences").isPresent()
                        ? new ResponseProfile(
                            chars,
                            structure,
                            style,
                            (int) num(p, "max_sentences").longValueExact(),
                            new TreeSet<>(strings(p, "modalities")))
                        : new ResponseProfile(chars, structure, style));
              });
      Map<String, String> overrides = new TreeMap<>();
      obj(canonical, "approval_overrides")
          .members()
          .forEach((tool, v) -> overrides.put(tool, asString(v, "approval_overrides." + tool)));
      return new AgentSpec(
          str(canonical, "name"),
          version,
          str(canonical, "instructions"),
          str(canonical, "model"),
          strings(canonical, "tools"),
          new Budget(
              (int) num(b, "max_steps").longValueExact(),
              (int) num(b, "max_model_calls").longValueExact(),
              (int) num(b, "max_tool_calls").longValueExact(),
              num(b, "max_cost_micros").longValueExact(),
              java.time.Duration.ofSeconds(num(b, "max_duration_s").longValueExact())),
          (int) num(canonical, "max_output_tokens").longValueExact(),
          str(canonical, "description"),
          str(canonical, "prompt_version"),
          new TreeSet<>(strings(canonical, "capabilities")),
          overrides,
          profiles,
          canonical.get("output_schema").map(v -> asObj(v, "output_schema")),
          strings(canonical, "acceptance_criteria"),
          (int) num(canonical, "max_reflections").longValueExact(),
          (int) num(canonical, "max_repairs").longValueExact(),
          canonical.get("ambiguity_threshold").isPresent()
              ? num(canonical, "ambiguity_threshold").value().doubleValue()
              : 0);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("agent definition: a number is out of range", e);
    }
  }

  private static JsonValue field(JsonObject o, String key) {
    return o.get(key)
        .orElseThrow(
            () -> new IllegalArgumentException("agent definition: '" + key + "' is missing"));
  }

  private static JsonObject obj(JsonObject o, String key) {
    return asObj(field(o, key), key);
  }

  private static JsonObject asObj(JsonValue v, String key) {
    if (v instanceof JsonObject j) {
      return j;
    }
    throw new IllegalArgumentException("agent definition: '" + key + "' must be an object");
  }

  private static String str(JsonObject o, String key) {
    return asString(field(o, key), key);
  }

  private static String asString(JsonValue v, String key) {
    if (v instanceof JsonValue.JsonString s) {
      return s.value();
    }
    throw new IllegalArgumentException("agent definition: '" + key + "' must be a string");
  }

  private static JsonValue.JsonNumber num(JsonObject o, String key) {
    if (field(o, key) instanceof JsonValue.JsonNumber n) {
      return n;
    }
    throw new IllegalArgumentException("agent definition: '" + key + "' must be a number");
  }

  private static List<String> strings(JsonObject o, String key) {
    if (!(field(o, key) instanceof JsonValue.JsonArray a)) {
      throw new IllegalArgumentException("agent definition: '" + key + "' must be an array");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.items().size(); i++) {
      out.add(asString(a.items().get(i), key + "[" + i + "]"));
    }
    return out;
  }

  /** The SHA-256 of the canonical definition: equal definitions have equal hashes. */
  public String contentHash() {
    return Hashes.of(canonical());
  }

  /** A definition built step by step; unset parts take the defaults of the short constructor. */
  public static final class Builder {
    private final String name;
    private Optional<String> version = Optional.empty();
    private String instructions = "";
    private String model = "scripted";
    private List<String> tools = List.of();
    private Budget budget = Budget.DEFAULT;
    private int maxOutputTokens = 1024;
    private String description = "";
    private String promptVersion = "1";
    private Set<String> capabilities = Set.of();
    private Map<String, String> approvalOverrides = Map.of();
    private final Map<String, ResponseProfile> profiles = new LinkedHashMap<>();
    private Optional<JsonObject> outputSchema = Optional.empty();
    private List<String> acceptanceCriteria = List.of();
    private int maxReflections;
    private int maxRepairs = 1;
    private double ambiguityThreshold;

    private Builder(String name) {
      this.name = name;
    }

    /** An explicit version; without one the version is the first 12 hex digits of the hash. */
    public Builder version(String v) {
      this.version = Optional.of(v);
      return this;
    }

    /** The system instructions and their version. */
    public Builder instructions(String text, String version) {
      this.instructions = text;
      this.promptVersion = version;
      return this;
    }

    /** The model name the gateway routes. */
    public Builder model(String m) {
      this.model = m;
      return this;
    }

    /** The allowed tools. */
    public Builder tools(List<String> t) {
      this.tools = t;
      return this;
    }

    /** The default budget. */
    public Builder budget(Budget b) {
      this.budget = b;
      return this;
    }

    /** The output allowance of each model call. */
    public Builder maxOutputTokens(int n) {
      this.maxOutputTokens = n;
      return this;
    }

    /** The description. */
    public Builder description(String d) {
      this.description = d;
      return this;
    }

    /** The capabilities ({@link AgentSpec#CAPABILITIES}). */
    public Builder capabilities(Set<String> c) {
      this.capabilities = c;
      return this;
    }

    /** Tool name to {@code always} or {@code deny}. */
    public Builder approvalOverrides(Map<String, String> o) {
      this.approvalOverrides = o;
      return this;
    }

    /** The response profile of {@code channel}. */
    public Builder profile(String channel, ResponseProfile p) {
      profiles.put(channel, p);
      return this;
    }

    /** The JSON Schema of the output's {@code data}. */
    public Builder outputSchema(JsonObject schema) {
      this.outputSchema = Optional.of(schema);
      return this;
    }

    /** The acceptance criteria and how many reflection checks a run may make. */
    public Builder acceptance(List<String> criteria, int maxReflections) {
      this.acceptanceCriteria = criteria;
      this.maxReflections = maxReflections;
      return this;
    }

    /** How many repair attempts invalid output gets. */
    public Builder maxRepairs(int n) {
      this.maxRepairs = n;
      return this;
    }

    /** The ambiguity threshold (0 to 1; 0 turns ambiguity routing off). */
    public Builder ambiguityThreshold(double t) {
      this.ambiguityThreshold = t;
      return this;
    }

    /** The definition; its version is the explicit one or derived from its content hash. */
    public AgentSpec build() {
      AgentSpec draft = spec("0");
      return version.isPresent()
          ? draft.withVersion(version.get())
          : draft.withVersion(draft.contentHash().substring(0, 12));
    }

    private AgentSpec spec(String v) {
      return new AgentSpec(
          name,
          v,
          instructions,
          model,
          tools,
          budget,
          maxOutputTokens,
          description,
          promptVersion,
          capabilities,
          approvalOverrides,
          profiles,
          outputSchema,
          acceptanceCriteria,
          maxReflections,
          maxRepairs,
          ambiguityThreshold);
    }
  }

  /** A copy with another version. */
  public AgentSpec withVersion(String v) {
    return new AgentSpec(
        name,
        v,
        instructions,
        model,
        tools,
        budget,
        maxOutputTokens,
        description,
        promptVersion,
        capabilities,
        approvalOverrides,
        responseProfiles,
        outputSchema,
        acceptanceCriteria,
        maxReflections,
        maxRepairs,
        ambiguityThreshold);
  }
}
