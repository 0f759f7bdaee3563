package dev.keel.agent;

import java.util.Set;

/**
 * How an agent answers on one channel.
 *
 * @param maxChars the longest answer, in characters
 * @param structure {@code plain}, {@code markdown}, {@code table} or {@code json}
 * @param approvalStyle how approvals are presented: {@code inline}, {@code link} or {@code spoken}
 */
public record ResponseProfile(int maxChars, String structure, String approvalStyle) {
  /** The channels a profile can be declared for. */
  public static final Set<String> CHANNELS = Set.of("api", "web", "cli", "voice", "mcp");

  /** The structures an answer can have. */
  public static final Set<String> STRUCTURES = Set.of("plain", "markdown", "table", "json");

  /** The approval styles. */
  public static final Set<String> APPROVAL_STYLES = Set.of("inline", "link", "spoken");

  /** The profile of a channel nobody configured: plain text up to 4,000 characters. */
  public static final ResponseProfile DEFAULT = new ResponseProfile(4000, "plain", "inline");

  /** Checks the values. */
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
  }

  /** The instruction the model gets for this channel. */
  public String instruction(String channel) {
    return "Channel "
        + channel
        + ": answer in at most "
        + maxChars
        + " characters, as "
        + switch (structure) {
          case "markdown" -> "Markdown";
          case "table" -> "a Markdown table where the content is tabular";
          case "json" -> "a single JSON value";
          default -> "plain sentences";
        }
        + ".";
  }
}
