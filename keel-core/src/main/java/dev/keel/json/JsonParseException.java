package dev.keel.json;

/** Thrown when JSON text is malformed or exceeds a limit; names the place it went wrong. */
public final class JsonParseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String pointer;
  private final int line;
  private final int column;
  private final boolean limitExceeded;

  JsonParseException(String message, String pointer, int line, int column, boolean limit) {
    super(
        message
            + " at line "
            + line
            + ", column "
            + column
            + (pointer.isEmpty() ? "" : " (" + pointer + ")"));
    this.pointer = pointer;
    this.line = line;
    this.column = column;
    this.limitExceeded = limit;
  }

  /** The JSON pointer of the value being read when the error was found ("" for the root). */
  public String pointer() {
    return pointer;
  }

  /** The 1-based line of the error. */
  public int line() {
    return line;
  }

  /** The 1-based column of the error. */
  public int column() {
    return column;
  }

  /** Whether a size or depth limit was exceeded (as opposed to malformed text). */
  public boolean limitExceeded() {
    return limitExceeded;
  }
}
