package dev.keel.app;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.agent.ResponseProfile;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.Budget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Agent definitions read from a folder of {@code *.yaml} files, one agent per file. Every version
 * ever loaded stays resolvable, so a run keeps the definition it was created with after the file
 * changes; {@link #reload()} (or {@link #watch}) picks up changes and makes new versions.
 *
 * <p>Implementation notes. Problems name the file, the line and the key, such as {@code
 * agents/triage.yaml:12: tools[1]: unknown tool 'crm.foo'}; the YAML is read token by token so
 * every key keeps its line. A file with problems adds no version; its previous version (if any)
 * stays the newest. A definition without {@code version} is versioned by its content hash; with
 * one, the same version may not name different content.
 */
public final class AgentFolder implements AgentCatalog, AutoCloseable {
  private static final Set<String> KEYS =
      Set.of(
          "name",
          "version",
          "description",
          "instructions",
          "prompt_version",
          "model",
          "tools",
          "capabilities",
          "budget",
          "max_output_tokens",
          "approval_overrides",
          "response_profiles",
          "output_schema",
          "acceptance_criteria",
          "max_reflections",
          "max_repairs",
          "ambiguity");
  private static final Set<String> BUDGET_KEYS =
      Set.of("max_steps", "max_model_calls", "max_tool_calls", "max_cost_usd", "max_duration_s");
  private static final Set<String> PROFILE_KEYS =
      Set.of("max_chars", "structure", "approval_style", "max_sentences", "modalities");

  private final Path dir;
  private final Set<String> knownTools;
  private final Map<String, LinkedHashMap<String, AgentSpec>> versions = new LinkedHashMap<>();
  private final Map<Path, String> seen = new HashMap<>();
  private @Nullable ScheduledExecutorService watcher;
  private Consumer<AgentSpec> registrar = spec -> {};

  private AgentFolder(Path dir, Set<String> knownTools) {
    this.dir = dir;
    this.knownTools = Set.copyOf(knownTools);
  }

  /**
   * Loads every {@code *.yaml} file of {@code dir}.
   *
   * @param knownTools the tools definitions may name
   * @throws ConfigException listing every problem of every file
   */
  public static AgentFolder load(Path dir, Set<String> knownTools) {
    AgentFolder f = new AgentFolder(dir, knownTools);
    List<String> problems = f.reload();
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return f;
  }

  /**
   * Reads one definition from {@code text}; {@code label} names it in problems.
   *
   * @throws ConfigException listing every problem
   */
  public static AgentSpec parse(String label, String text, Set<String> knownTools) {
    List<String> problems = new ArrayList<>();
    Parsed parsed = parse(label, text, problems);
    Optional<AgentSpec> spec =
        parsed == null
            ? Optional.empty()
            : new AgentFolder(Path.of("."), knownTools).define(parsed, problems);
    if (!problems.isEmpty() || spec.isEmpty()) {
      throw new ConfigException(problems);
    }
    return spec.get();
  }

  /**
   * Reads the files that changed since the last load; returns their problems (empty if none). A
   * changed valid file adds a version.
   */
  public synchronized List<String> reload() {
    List<String> problems = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files =
          s.filter(p -> p.getFileName().toString().endsWith(".yaml"))
              .filter(Files::isRegularFile)
              .sorted()
              .toList();
    } catch (IOException x) {
      throw new UncheckedIOException("cannot list the agents folder " + dir, x);
    }
    for (Path file : files) {
      String text;
      try {
        text = Files.readString(file);
      } catch (IOException x) {
        problems.add(label(file) + ": cannot read: " + x.getMessage());
        continue;
      }
      if (text.equals(seen.get(file))) {
        continue;
      }
      Parsed parsed = parse(label(file), text, problems);
      if (parsed == null) {
        continue;
      }
      int before = problems.size();
      Optional<AgentSpec> spec = define(parsed, problems);
      if (spec.isPresent() && problems.size() == before) {
        add(parsed, spec.get(), problems);
      }
      if (problems.size() == before) {
        seen.put(file, text);
      }
    }
    return problems;
  }

  /** Reloads every {@code interval}, reporting problems to {@code onProblems}. */
  public synchronized void watch(Duration interval, Consumer<List<String>> onProblems) {
    if (watcher != null) {
      return;
    }
    ScheduledExecutorService w =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("keel-agents-watch").unstarted(r));
    w.scheduleWithFixedDelay(
        () -> {
          try {
            List<String> p = reload();
            if (!p.isEmpty()) {
              onProblems.accept(p);
            }
          } catch (RuntimeException x) {
            onProblems.accept(List.of(String.valueOf(x.getMessage())));
          }
        },
        interval.toMillis(),
        interval.toMillis(),
        TimeUnit.MILLISECONDS);
    watcher = w;
  }

  @Override
  public synchronized void close() {
    if (watcher != null) {
      watcher.shutdownNow();
      watcher = null;
    }
  }

  @Override
  public synchronized Optional<AgentSpec> latest(String name) {
    LinkedHashMap<String, AgentSpec> v = versions.get(name);
    return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.lastEntry().getValue());
  }

  @Override
  public synchronized Optional<AgentSpec> find(String name, String version) {
    return Optional.ofNullable(versions.getOrDefault(name, new LinkedHashMap<>()).get(version));
  }

  @Override
  public synchronized List<AgentSpec> all() {
    return versions.values().stream().map(v -> v.lastEntry().getValue()).toList();
  }

  /** Every version of {@code name}, oldest first. */
  public synchronized List<AgentSpec> versions(String name) {
    return List.copyOf(versions.getOrDefault(name, new LinkedHashMap<>()).values());
  }

  private void add(Parsed parsed, AgentSpec spec, List<String> problems) {
    LinkedHashMap<String, AgentSpec> v =
        versions.computeIfAbsent(spec.name(), k -> new LinkedHashMap<>());
    AgentSpec old = v.get(spec.version());
    if (old != null && !old.contentHash().equals(spec.contentHash())) {
      problems.add(
          parsed.where("version")
              + ": version '"
              + spec.version()
              + "' of agent "
              + spec.name()
              + " already has different content; change the version or remove it");
      return;
    }
    try {
      registrar.accept(spec);
    } catch (IllegalStateException x) {
      problems.add(parsed.where("version") + ": " + x.getMessage());
      return;
    }
    v.remove(spec.version());
    v.put(spec.version(), spec);
  }

  /**
   * Hands every version loaded so far, and every version a reload adds, to {@code r} (such as
   * storing it, {@link dev.keel.agent.StoredAgents#register}); a version {@code r} refuses with an
   * {@link IllegalStateException} is reported as a problem of its file and not added.
   *
   * @throws IllegalStateException if {@code r} refuses a version loaded before
   */
  public synchronized void registerWith(Consumer<AgentSpec> r) {
    versions.values().forEach(v -> v.values().forEach(r));
    this.registrar = r;
  }

  private String label(Path file) {
    Path name = dir.getFileName();
    return (name == null ? "" : name + "/") + file.getFileName();
  }

  // ---- validation ----

  private Optional<AgentSpec> define(Parsed p, List<String> problems) {
    int before = problems.size();
    Map<String, Object> root = p.root;
    for (String k : root.keySet()) {
      if (!KEYS.contains(k)) {
        problems.add(
            p.where(k) + ": unknown key; known keys: " + new TreeMap<>(toMap(KEYS)).keySet());
      }
    }
    String name = p.requiredString(root, "name", "", problems);
    String instructions = p.requiredString(root, "instructions", "", problems);
    String model = p.requiredString(root, "model", "", problems);
    AgentSpec.Builder b = AgentSpec.builder(name == null ? "x" : name);
    if (name != null && !name.matches("[a-z0-9][a-z0-9_.-]{0,63}")) {
      problems.add(
          p.where("name")
              + ": agent name '"
              + name
              + "' must be 1-64 lower-case letters, digits, '-', '_' or '.'");
    }
    p.optString(root, "version", "", problems).ifPresent(b::version);
    p.optString(root, "description", "", problems).ifPresent(b::description);
    String promptVersion = p.optString(root, "prompt_version", "", problems).orElse("1");
    b.instructions(instructions == null ? "" : instructions, promptVersion);
    if (model != null) {
      b.model(model);
    }
    List<String> tools = p.stringList(root, "tools", "", problems);
    for (int i = 0; i < tools.size(); i++) {
      if (!knownTools.contains(tools.get(i))) {
        problems.add(
            p.where("tools[" + i + "]")
                + ": unknown tool '"
                + tools.get(i)
                + "'; known tools: "
                + new TreeMap<>(toMap(knownTools)).keySet());
      }
    }
    b.tools(tools);
    List<String> caps = p.stringList(root, "capabilities", "", problems);
    for (int i = 0; i < caps.size(); i++) {
      if (!AgentSpec.CAPABILITIES.contains(caps.get(i))) {
        problems.add(
            p.where("capabilities[" + i + "]")
                + ": unknown capability '"
                + caps.get(i)
                + "'; known: "
                + new TreeMap<>(toMap(AgentSpec.CAPABILITIES)).keySet());
      }
    }
    b.capabilities(new HashSet<>(caps));
    p.optInt(root, "max_output_tokens", "", 1, problems).ifPresent(b::maxOutputTokens);
    p.optInt(root, "max_repairs", "", 0, problems).ifPresent(b::maxRepairs);
    int maxReflections = p.optInt(root, "max_reflections", "", 0, problems).orElse(0);
    b.acceptance(p.stringList(root, "acceptance_criteria", "", problems), maxReflections);
    Map<String, Object> budget = p.optMap(root, "budget", "", problems);
    if (budget != null) {
      for (String k : budget.keySet()) {
        if (!BUDGET_KEYS.contains(k)) {
          problems.add(
              p.where("budget." + k)
                  + ": unknown key; known keys: "
                  + new TreeMap<>(toMap(BUDGET_KEYS)).keySet());
        }
      }
      Budget d = Budget.DEFAULT;
      int steps = p.optInt(budget, "max_steps", "budget.", 1, problems).orElse(d.maxSteps());
      int calls =
          p.optInt(budget, "max_model_calls", "budget.", 1, problems).orElse(d.maxModelCalls());
      int toolCalls =
          p.optInt(budget, "max_tool_calls", "budget.", 0, problems).orElse(d.maxToolCalls());
      long cost = d.maxCostMicros();
      Object c = budget.get("max_cost_usd");
      if (c != null) {
        if (c instanceof Number n && new BigDecimal(n.toString()).signum() >= 0) {
          cost = new BigDecimal(n.toString()).movePointRight(6).longValue();
        } else {
          problems.add(p.where("budget.max_cost_usd") + ": must be a non-negative number of USD");
        }
      }
      int secs =
          p.optInt(budget, "max_duration_s", "budget.", 1, problems)
              .orElse((int) d.maxDuration().toSeconds());
      b.budget(new Budget(steps, calls, toolCalls, cost, Duration.ofSeconds(secs)));
    }
    Map<String, Object> ambiguity = p.optMap(root, "ambiguity", "", problems);
    if (ambiguity != null) {
      for (String k : ambiguity.keySet()) {
        if (!k.equals("threshold")) {
          problems.add(p.where("ambiguity." + k) + ": unknown key; known keys: [threshold]");
        }
      }
      Object t = ambiguity.get("threshold");
      if (t != null) {
        if (t instanceof Number n
            && new BigDecimal(n.toString()).signum() >= 0
            && new BigDecimal(n.toString()).compareTo(BigDecimal.ONE) <= 0) {
          b.ambiguityThreshold(new BigDecimal(n.toString()).doubleValue());
        } else {
          problems.add(p.where("ambiguity.threshold") + ": must be a number from 0 to 1");
        }
      }
    }
    Map<String, Object> overrides = p.optMap(root, "approval_overrides", "", problems);
    if (overrides != null) {
      Map<String, String> o = new LinkedHashMap<>();
      for (var e : overrides.entrySet()) {
        String key = "approval_overrides." + e.getKey();
        if (!tools.contains(e.getKey())) {
          problems.add(p.where(key) + ": tool '" + e.getKey() + "' is not in this agent's tools");
        }
        if (!(e.getValue() instanceof String s) || !AgentSpec.OVERRIDES.contains(s)) {
          problems.add(
              p.where(key)
                  + ": must be 'always' (every call needs a person) or 'deny'; got '"
                  + e.getValue()
                  + "'");
        } else {
          o.put(e.getKey(), s);
        }
      }
      b.approvalOverrides(o);
    }
    Map<String, Object> profiles = p.optMap(root, "response_profiles", "", problems);
    if (profiles != null) {
      for (var e : profiles.entrySet()) {
        String key = "response_profiles." + e.getKey();
        if (!ResponseProfile.CHANNELS.contains(e.getKey())) {
          problems.add(
              p.where(key)
                  + ": unknown channel; known: "
                  + new TreeMap<>(toMap(ResponseProfile.CHANNELS)).keySet());
          continue;
        }
        Map<String, Object> prof = p.optMap(profiles, e.getKey(), "response_profiles.", problems);
        if (prof == null) {
          continue;
        }
        for (String k : prof.keySet()) {
          if (!PROFILE_KEYS.contains(k)) {
            problems.add(p.where(key + "." + k) + ": unknown key; known keys: " + PROFILE_KEYS);
          }
        }
        ResponseProfile dflt = ResponseProfile.DEFAULT;
        int max = p.optInt(prof, "max_chars", key + ".", 1, problems).orElse(dflt.maxChars());
        String structure =
            p.optString(prof, "structure", key + ".", problems).orElse(dflt.structure());
        String style =
            p.optString(prof, "approval_style", key + ".", problems).orElse(dflt.approvalStyle());
        int sentences = p.optInt(prof, "max_sentences", key + ".", 0, problems).orElse(0);
        List<String> modalities = p.stringList(prof, "modalities", key + ".", problems);
        for (int i = 0; i < modalities.size(); i++) {
          if (!ResponseProfile.MODALITIES.contains(modalities.get(i))) {
            problems.add(
                p.where(key + ".modalities[" + i + "]")
                    + ": must be one of "
                    + new TreeMap<>(toMap(ResponseProfile.MODALITIES)).keySet());
          }
        }
        if (!ResponseProfile.STRUCTURES.contains(structure)) {
          problems.add(
              p.where(key + ".structure")
                  + ": must be one of "
                  + new TreeMap<>(toMap(ResponseProfile.STRUCTURES)).keySet());
        } else if (!ResponseProfile.APPROVAL_STYLES.contains(style)) {
          problems.add(
              p.where(key + ".approval_style")
                  + ": must be one of "
                  + new TreeMap<>(toMap(ResponseProfile.APPROVAL_STYLES)).keySet());
        } else {
          b.profile(
              e.getKey(),
              new ResponseProfile(
                  max,
                  structure,
                  style,
                  sentences,
                  modalities.isEmpty() || !ResponseProfile.MODALITIES.containsAll(modalities)
                      ? Set.of("text")
                      : new HashSet<>(modalities)));
        }
      }
    }
    Map<String, Object> schema = p.optMap(root, "output_schema", "", problems);
    if (schema != null) {
      JsonObject json = (JsonObject) JsonValue.from(schema);
      try {
        dev.keel.tools.schema.JsonSchema.compile("output_schema", json);
        b.outputSchema(json);
      } catch (IllegalArgumentException x) {
        problems.add(p.where("output_schema") + ": " + x.getMessage());
      }
    }
    if (problems.size() > before) {
      return Optional.empty();
    }
    try {
      return Optional.of(b.build());
    } catch (IllegalArgumentException x) {
      problems.add(p.file + ": " + x.getMessage());
      return Optional.empty();
    }
  }

  private static Map<String, Boolean> toMap(Set<String> s) {
    Map<String, Boolean> m = new HashMap<>();
    s.forEach(k -> m.put(k, true));
    return m;
  }

  // ---- parsing with lines ----

  private static @Nullable Parsed parse(String file, String text, List<String> problems) {
    YAMLMapper yaml =
        YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = yaml.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        problems.add(file + ":1: an agent definition must be a mapping of keys such as name");
        return null;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> root = (Map<String, Object>) read(p, "", lines);
      return new Parsed(file, root, lines);
    } catch (JacksonException x) {
      int line = x.getLocation() == null ? 1 : Math.max(1, x.getLocation().getLineNr());
      problems.add(
          file
              + ":"
              + line
              + ": not valid YAML: "
              + x.getOriginalMessage().lines().findFirst().orElse(""));
      return null;
    }
  }

  private static @Nullable Object read(JsonParser p, String path, Map<String, Integer> lines) {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
          String name = p.currentName();
          String child = path.isEmpty() ? name : path + "." + name;
          lines.put(child, p.currentTokenLocation().getLineNr());
          p.nextToken();
          m.put(name, read(p, child, lines));
        }
        return m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        int i = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
          String child = path + "[" + i++ + "]";
          lines.put(child, p.currentTokenLocation().getLineNr());
          l.add(read(p, child, lines));
        }
        return l;
      }
      case VALUE_STRING -> {
        return p.getString();
      }
      case VALUE_NUMBER_INT -> {
        return p.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return p.getDecimalValue();
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      default -> {
        return null;
      }
    }
  }

  /** A parsed file: its tree and the line of every key. */
  private record Parsed(String file, Map<String, Object> root, Map<String, Integer> lines) {

    String where(String key) {
      Integer line = lines.get(key);
      if (line == null) {
        int dot = key.lastIndexOf('.');
        line = dot > 0 ? lines.get(key.substring(0, dot)) : null;
      }
      return file + ":" + (line == null ? 1 : line) + ": " + key;
    }

    @Nullable String requiredString(
        Map<String, Object> m, String key, String prefix, List<String> problems) {
      Object v = m.get(key);
      if (v == null) {
        problems.add(file + ":1: " + prefix + key + ": required");
        return null;
      }
      if (!(v instanceof String s) || s.isBlank()) {
        problems.add(where(prefix + key) + ": must be a non-empty string");
        return null;
      }
      return s;
    }

    Optional<String> optString(
        Map<String, Object> m, String key, String prefix, List<String> problems) {
      Object v = m.get(key);
      if (v == null) {
        return Optional.empty();
      }
      if (v instanceof String s) {
        return Optional.of(s);
      }
      if (v instanceof Number n) {
        return Optional.of(n.toString());
      }
      problems.add(where(prefix + key) + ": must be a string");
      return Optional.empty();
    }

    Optional<Integer> optInt(
        Map<String, Object> m, String key, String prefix, int min, List<String> problems) {
      Object v = m.get(key);
      if (v == null) {
        return Optional.empty();
      }
      if (v instanceof Long n && n >= min && n <= Integer.MAX_VALUE) {
        return Optional.of(n.intValue());
      }
      problems.add(where(prefix + key) + ": must be a whole number of at least " + min);
      return Optional.empty();
    }

    List<String> stringList(
        Map<String, Object> m, String key, String prefix, List<String> problems) {
      Object v = m.get(key);
      if (v == null) {
        return List.of();
      }
      if (!(v instanceof List<?> l)) {
        problems.add(where(prefix + key) + ": must be a list");
        return List.of();
      }
      List<String> out = new ArrayList<>();
      for (int i = 0; i < l.size(); i++) {
        if (l.get(i) instanceof String s) {
          out.add(s);
        } else {
          problems.add(where(prefix + key + "[" + i + "]") + ": must be a string");
        }
      }
      return out;
    }

    @SuppressWarnings("unchecked")
    @Nullable Map<String, Object> optMap(
        Map<String, Object> m, String key, String prefix, List<String> problems) {
      Object v = m.get(key);
      if (v == null) {
        return null;
      }
      if (!(v instanceof Map<?, ?>)) {
        problems.add(where(prefix + key) + ": must be a mapping");
        return null;
      }
      return (Map<String, Object>) v;
    }
  }
}
