package dev.keel.run;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A run's explicit plan: ordered steps with a status and, optionally, the tool a step will use. The
 * agent writes it with {@code keel.update_plan}; a person may replace it at any time; every change
 * is a {@code plan.updated} event and bumps {@code revision}.
 *
 * @param revision how many times the plan was set (0: no plan yet)
 * @param steps the steps in order
 */
public record Plan(int revision, List<Step> steps) {
  /** No plan. */
  public static final Plan NONE = new Plan(0, List.of());

  /** The statuses a step can have. */
  public static final Set<String> STATUSES =
      Set.of("pending", "in_progress", "done", "skipped", "failed");

  /** Copies the steps. */
  public Plan {
    steps = List.copyOf(steps);
  }

  /**
   * One step.
   *
   * @param id a short id unique within the plan
   * @param title what the step does
   * @param status one of {@link #STATUSES}
   * @param tool the tool the step will use, if any
   */
  public record Step(String id, String title, String status, Optional<String> tool) {
    /** Checks the fields. */
    public Step {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(title, "title");
      Objects.requireNonNull(tool, "tool");
      if (!STATUSES.contains(status)) {
        throw new IllegalArgumentException("plan step status must be one of " + STATUSES);
      }
    }
  }

  /** The JSON of the plan: {@code {revision, steps:[{id,title,status,tool?}]}}. */
  public JsonObject toJson() {
    List<Object> out = new ArrayList<>();
    for (Step s : steps) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", s.id());
      m.put("title", s.title());
      m.put("status", s.status());
      s.tool().ifPresent(t -> m.put("tool", t));
      out.add(m);
    }
    return JsonValue.object("revision", (long) revision, "steps", out);
  }

  /**
   * Reads the steps of {@code json} ({@code {steps:[...]}}); the revision is the caller's.
   *
   * @throws IllegalArgumentException naming the first bad field, such as {@code steps[1].status}
   */
  public static List<Step> readSteps(JsonValue json) {
    if (!(json instanceof JsonObject o)) {
      throw new IllegalArgumentException("plan must be an object with steps");
    }
    if (!(o.get("steps").orElse(null) instanceof JsonArray a)) {
      throw new IllegalArgumentException("steps: required, a list of {id, title, status, tool?}");
    }
    if (a.items().size() > 100) {
      throw new IllegalArgumentException("steps: at most 100 steps");
    }
    List<Step> steps = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < a.items().size(); i++) {
      String at = "steps[" + i + "]";
      if (!(a.items().get(i) instanceof JsonObject s)) {
        throw new IllegalArgumentException(at + ": must be an object");
      }
      String id = s.string("id").orElse(Integer.toString(i + 1));
      if (!ids.add(id)) {
        throw new IllegalArgumentException(at + ".id: '" + id + "' is used twice");
      }
      String title =
          s.string("title")
              .filter(t -> !t.isBlank())
              .orElseThrow(() -> new IllegalArgumentException(at + ".title: required"));
      String status = s.string("status").orElse("pending");
      if (!STATUSES.contains(status)) {
        throw new IllegalArgumentException(
            at + ".status: '" + status + "' is not one of " + new java.util.TreeSet<>(STATUSES));
      }
      steps.add(new Step(id, title, status, s.string("tool").filter(t -> !t.isBlank())));
    }
    return steps;
  }

  /** Reads a plan written by {@link #toJson()}. */
  public static Plan fromJson(JsonValue json) {
    long revision =
        json instanceof JsonObject o
            ? o.get("revision")
                .filter(JsonValue.JsonNumber.class::isInstance)
                .map(n -> ((JsonValue.JsonNumber) n).longValueExact())
                .orElse(0L)
            : 0L;
    return new Plan((int) revision, readSteps(json));
  }

  /** A short text of the plan for the model's context. */
  public String describe() {
    StringBuilder b = new StringBuilder("Current plan (revision " + revision + "):");
    for (Step s : steps) {
      b.append("\n- [").append(s.status()).append("] ").append(s.id()).append(": ");
      b.append(s.title());
      s.tool().ifPresent(t -> b.append(" (tool ").append(t).append(')'));
    }
    return b.toString();
  }
}
