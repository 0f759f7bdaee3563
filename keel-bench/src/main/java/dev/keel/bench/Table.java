package dev.keel.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A table of text cells, rendered aligned for the console or as GitHub markdown. */
final class Table {
  /** What a cell shows when there is no figure. */
  static final String NONE = "n/a";

  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  /** A table with these column headers. */
  Table(List<String> headers) {
    if (headers.isEmpty()) {
      throw new IllegalArgumentException("a table needs at least one column");
    }
    this.headers = List.copyOf(headers);
  }

  /** Adds a row; it must have one cell per column. */
  Table add(List<String> cells) {
    if (cells.size() != headers.size()) {
      throw new IllegalArgumentException(
          "a row of this table needs " + headers.size() + " cells, got " + cells.size());
    }
    rows.add(List.copyOf(cells));
    return this;
  }

  /** The rows added so far. */
  List<List<String>> rows() {
    return List.copyOf(rows);
  }

  /** {@code value} with {@code digits} decimals, or {@link #NONE} when it is not a number. */
  static String number(double value, int digits) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return NONE;
    }
    return String.format(Locale.ROOT, "%,." + digits + "f", value);
  }

  /** A ratio such as {@code 1.85x}, or {@link #NONE}. */
  static String ratio(double value) {
    String n = number(value, 2);
    return n.equals(NONE) ? NONE : n + "x";
  }

  /** The table as GitHub markdown. */
  String markdown() {
    StringBuilder out = new StringBuilder();
    line(out, headers);
    out.append('|');
    for (int i = 0; i < headers.size(); i++) {
      out.append("---|");
    }
    out.append('\n');
    for (List<String> row : rows) {
      line(out, row);
    }
    return out.toString();
  }

  private static void line(StringBuilder out, List<String> cells) {
    out.append('|');
    for (String c : cells) {
      out.append(' ').append(c.replace("|", "\\|")).append(" |");
    }
    out.append('\n');
  }

  /** The table with its columns padded to line up in a fixed-width font. */
  String aligned() {
    int[] width = new int[headers.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = headers.get(i).length();
      for (List<String> row : rows) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    pad(out, headers, width);
    for (int i = 0; i < width.length; i++) {
      out.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
    }
    out.append('\n');
    for (List<String> row : rows) {
      pad(out, row, width);
    }
    return out.toString();
  }

  private static void pad(StringBuilder out, List<String> cells, int[] width) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      if (i > 0) {
        line.append("  ");
      }
      // the first column is a label: left-aligned; figures are right-aligned
      line.append(
          i == 0 ? c + " ".repeat(width[i] - c.length()) : " ".repeat(width[i] - c.length()) + c);
    }
    out.append(line.toString().stripTrailing()).append('\n');
  }
}
