package dev.keel.app;

/** A CLI failure with the exit code it maps to and a message that says what to do. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Usage or input error. */
  static final int USAGE = 2;

  /** The server or store cannot be reached. */
  static final int UNREACHABLE = 4;

  private final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
