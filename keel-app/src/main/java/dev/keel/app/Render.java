package dev.keel.app;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import java.util.List;

/** Concise human text for API resources, and the exit code a run's status maps to. */
final class Render {
  private Render() {}

  /** 0 completed (or still going), 1 failed/cancelled/timed out, 3 waiting for a person. */
  static int exitFor(JsonObject run) {
    return switch (run.string("status").orElse("")) {
      case "failed", "cancelled", "timed_out" -> 1;
      case "waiting", "paused" -> 3;
      default -> 0;
    };
  }

  static List<JsonValue> data(JsonObject page) {
    return page.get("data")
        .filter(JsonArray.class::isInstance)
        .map(a -> ((JsonArray) a).items())
        .orElse(List.of());
  }

  static String str(JsonObject o, String key) {
    return o.get(key)
        .map(v -> v instanceof JsonValue.JsonString s ? s.value() : v.toString())
        .orElse("");
  }

  static JsonObject obj(JsonObject o, String key) {
    return o.get(key)
        .filter(JsonObject.class::isInstance)
        .map(JsonObject.class::cast)
        .orElse(JsonValue.EMPTY_OBJECT);
  }

  static String run(JsonObject r) {
    JsonObject usage = obj(r, "usage");
    StringBuilder sb = new StringBuilder();
    sb.append(str(r, "id"))
        .append("  ")
        .append(str(obj(r, "agent"), "name"))
        .append("  ")
        .append(str(r, "status"));
    String phase = str(r, "phase");
    if (!phase.isEmpty() && !phase.equals("null")) {
      sb.append(" (").append(phase).append(')');
    }
    sb.append("  step ").append(str(r, "step"));
    sb.append("  cost $").append(str(usage, "cost_usd"));
    String out = str(obj(r, "output"), "text");
    if (!out.isEmpty()) {
      sb.append("\n  output: ").append(out);
    }
    JsonObject error = obj(r, "error");
    if (!error.members().isEmpty()) {
      sb.append("\n  error: ")
          .append(str(error, "code"))
          .append(": ")
          .append(str(error, "message"));
    }
    return sb.toString();
  }

  static String approval(JsonObject a) {
    return str(a, "id")
        + "  "
        + str(a, "status")
        + "  run "
        + str(a, "run_id")
        + "  "
        + str(a, "tool")
        + " "
        + str(a, "arguments")
        + "  risk "
        + str(a, "risk_level")
        + (str(a, "status").equals("pending")
            ? "\n  approve: keel approve "
                + str(a, "id")
                + "   deny: keel deny "
                + str(a, "id")
                + " --reason \"...\""
            : "");
  }

  static String event(JsonObject e) {
    return str(e, "sequence")
        + "  "
        + str(e, "created_at")
        + "  "
        + str(e, "type")
        + "  "
        + str(e, "data");
  }
}
