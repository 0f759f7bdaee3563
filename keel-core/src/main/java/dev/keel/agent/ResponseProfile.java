package dev.keel.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * How an agent answers on one channel. The profile shapes the context pack (the model is told the
 * limits) and is enforced where it can be checked mechanically: an answer over {@code maxChars} or
 * {@code maxSentences}, or a {@code json} answer that does not parse, goes back to the model for
 * repair like an invalid output. {@code table} is an instruction only ("a Markdown table where the
 * content is tabular"), never a violation: whether content is tabular is not mechanical, and a
 * short honest answer must not fail for lacking a table (decision 0023).
 *
 * @param maxChars the longest answer, in characters
 * @param structure {@code plain}, {@code markdown}, {@code table} or {@code json}
 * @param approvalStyle how approvals are presented: {@code inline}, {@code link} or {@code spoken}
 * @param maxSentences the most sentences an answer may have; 0 for no limit
 * @param modalities what the channel can carry: {@code text}, {@code audio}, {@code image}, {@code
 *     file}
 */
public record ResponseProfile(
    int maxChars,
    String structure,
    String approvalStyle,
    int maxSentences,
    Set<String> modalities) {
  /** The channels a profile can be declared for. */
  public static final Set<String> CHANNELS = Set.of("api", "web", "cli", "voice", "mcp");

  /** The structures an answer can have. */
  public static final Set<String> STRUCTURES = Set.of("plain", "markdown", "table", "json");

  /** The approval styles. */
  public static final Set<String> APPROVAL_STYLES = Set.of("inline", "link", "spoken");

  /** The modalities a channel can carry. */
  public static final Set<String> MODALITIES = Set.of("text", "audio", "image", "file");

  /** The profile of a channel nobody configured: plain text up to 4,000 characters. */
  public static final ResponseProfile DEFAULT = new ResponseProfile(4000, "plain", "inline");

  private static final Pattern SENTENCE_END = Pattern.compile("[.!?]+(?=\\s|$)");

  /** Checks the values and copies the modalities. */
  public ResponseProfile {
    if (maxChars < 1) {
      throw new IllegalArgumentException("max_chars must be positive, got " + maxChars);
    }
    if (!STRUCTURES.contains(structure)) {
      throw new IllegalArgumentException(
          "structure must be one of " + STRUCTURES + ", got '" + structure + "'");
    }
    if (!APPROVAL_STYLES.contains(approvalStyle)) {
      throw new IllegalArgumentException(
          "approval_style must be one of " + APPROVAL_STYLES + ", got '" + approvalStyle + "'");
    }
    if (maxSentences < 0) {
      throw new IllegalArgumentException("max_sentences must not be negative, got " + maxSentences);
    }
    modalities = Set.copyOf(new TreeSet<>(modalities));
    if (modalities.isEmpty()) {
      throw new IllegalArgumentException("modalities must not be empty");
    }
    for (String m : modalities) {
      if (!MODALITIES.contains(m)) {
        throw new IllegalArgumentException(
            "modalities must be among " + new TreeSet<>(MODALITIES) + ", got '" + m + "'");
      }
    }
  }

  /** A text-only profile with no sentence limit. */
  public ResponseProfile(int maxChars, String structure, String approvalStyle) {
    this(maxChars, structure, approvalStyle, 0, Set.of("text"));
  }

  /** Whether the profile has nothing beyond the three original settings (for stable hashes). */
  boolean basic() {
    return maxSentences == 0 && modalities.equals(Set.of("text"));
  }

  /** The instruction the model gets for this channel. */
  public String instruction(String channel) {
    StringBuilder b =
        new StringBuilder("Channel ")
            .append(channel)
            .append(": answer in at most ")
            .append(maxChars)
            .append(" characters");
    if (maxSentences > 0) {
      b.append(" and at most ")
          .append(maxSentences)
          .append(maxSentences == 1 ? " sentence" : " sentences");
    }
    b.append(", as ")
        .append(
            switch (structure) {
              case "markdown" -> "Markdown";
              case "table" -> "a Markdown table where the content is tabular";
              case "json" -> "a single JSON value";
              default -> "plain sentences";
            })
        .append('.');
    if (!basic()) {
      b.append(" The channel carries ").append(String.join(", ", new TreeSet<>(modalities)));
      b.append(
          switch (approvalStyle) {
            case "spoken" -> "; ask for approvals in one short spoken sentence.";
            case "link" -> "; approvals are handled through a link, do not ask inline.";
            default -> "; approvals are asked inline.";
          });
    }
    return b.toString();
  }

  /**
   * The sentences of {@code text}: runs ending in {@code .}, {@code !} or {@code ?}, or the end.
   */
  public static int sentences(String text) {
    String t = text.strip();
    if (t.isEmpty()) {
      return 0;
    }
    int n = 0;
    var m = SENTENCE_END.matcher(t);
    int last = 0;
    while (m.find()) {
      n++;
      last = m.end();
    }
    return last < t.length() && !t.substring(last).isBlank() ? n + 1 : n;
  }

  /** What {@code text} breaks of this profile; empty when it complies. */
  public List<String> violations(String text) {
    List<String> out = new ArrayList<>();
    if (text.length() > maxChars) {
      out.add("the answer has " + text.length() + " characters; the limit is " + maxChars);
    }
    int sentences = sentences(text);
    if (maxSentences > 0 && sentences > maxSentences) {
      out.add("the answer has " + sentences + " sentences; the limit is " + maxSentences);
    }
    switch (structure) {
      case "json" -> {
        try {
          dev.keel.json.JsonParser.parse(text.strip());
        } catch (RuntimeException x) {
          out.add("the answer must be a single JSON value: " + x.getMessage());
        }
      }
      // table: an instruction in the pack (and in every repair step's pack), not a check
      default -> {}
    }
    return out;
  }
}
