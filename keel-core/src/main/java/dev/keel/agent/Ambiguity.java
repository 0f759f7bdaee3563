package dev.keel.agent;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Ambiguity routing: when the model ({@code keel.choose}) or a tool (a result with {@code
 * candidates}) reports several candidates, the run acts on one alone only if exactly one reaches
 * the agent's confidence threshold; otherwise a person chooses among them.
 *
 * <p>Candidates are {@code [{"value": ..., "confidence": 0..1, "label"?: "..."}]}; a value may be
 * any JSON value, a person sees it as text.
 */
public final class Ambiguity {
  private Ambiguity() {}

  /**
   * One candidate.
   *
   * @param value what would be acted on
   * @param confidence how sure the reporter is, 0 to 1
   * @param label how a person sees it
   */
  public record Candidate(JsonValue value, BigDecimal confidence, String label) {}

  /**
   * Reads {@code candidates} from a value.
   *
   * @throws IllegalArgumentException naming the bad entry
   */
  public static List<Candidate> read(JsonValue candidates) {
    if (!(candidates instanceof JsonArray a)) {
      throw new IllegalArgumentException("candidates: must be an array");
    }
    List<Candidate> out = new ArrayList<>();
    for (int i = 0; i < a.items().size(); i++) {
      if (!(a.items().get(i) instanceof JsonObject o)) {
        throw new IllegalArgumentException("candidates[" + i + "]: must be an object");
      }
      JsonValue value =
          o.get("value")
              .orElseThrow(() -> new IllegalArgumentException("candidates: value required"));
      BigDecimal c =
          o.get("confidence")
              .filter(JsonValue.JsonNumber.class::isInstance)
              .map(n -> ((JsonValue.JsonNumber) n).value())
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "candidates[" + (out.size()) + "].confidence: a number is required"));
      if (c.signum() < 0 || c.compareTo(BigDecimal.ONE) > 0) {
        throw new IllegalArgumentException(
            "candidates[" + out.size() + "].confidence: must be between 0 and 1, got " + c);
      }
      String label =
          o.string("label")
              .orElse(value instanceof JsonValue.JsonString s ? s.value() : value.toString());
      out.add(new Candidate(value, c, label));
    }
    return out;
  }

  /** The candidates a tool's result reports, if it reports at least two readable ones. */
  public static Optional<List<Candidate>> inResult(JsonValue result) {
    if (!(result instanceof JsonObject o)
        || o.get("chosen_by").isPresent()
        || o.get("candidates").isEmpty()) {
      return Optional.empty();
    }
    try {
      List<Candidate> c = read(o.get("candidates").get());
      return c.size() >= 2 ? Optional.of(c) : Optional.empty();
    } catch (IllegalArgumentException x) {
      return Optional.empty();
    }
  }

  /** The one candidate that reaches {@code threshold}, if exactly one does. */
  public static Optional<Candidate> sole(List<Candidate> candidates, double threshold) {
    BigDecimal t = BigDecimal.valueOf(threshold);
    List<Candidate> confident =
        candidates.stream().filter(c -> c.confidence().compareTo(t) >= 0).toList();
    return confident.size() == 1 ? Optional.of(confident.getFirst()) : Optional.empty();
  }

  /** Whether a person must choose: several candidates and not exactly one confident enough. */
  public static boolean ambiguous(List<Candidate> candidates, double threshold) {
    return threshold > 0 && candidates.size() >= 2 && sole(candidates, threshold).isEmpty();
  }

  /** The choices a person sees, in the reported order. */
  public static List<String> choices(List<Candidate> candidates) {
    return candidates.stream().map(Candidate::label).toList();
  }

  /** The question put to a person about a tool's candidates. */
  public static String question(String tool, List<Candidate> candidates, double threshold) {
    return tool
        + " found "
        + candidates.size()
        + " candidates and not exactly one reaches the confidence threshold of "
        + BigDecimal.valueOf(threshold).stripTrailingZeros().toPlainString()
        + "; which one is meant?";
  }
}
