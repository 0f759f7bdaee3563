package dev.keel.observe;

import dev.keel.redact.Redaction;

/**
 * The redaction the logging layouts apply. Logback builds its layouts reflectively from {@code
 * logback.xml}, so they read the process's redaction from here; the runtime installs its configured
 * one at start, and until then the secret rules apply.
 */
public final class LogRedaction {
  private static volatile Redaction current = Redaction.secrets();

  private LogRedaction() {}

  /** Makes log lines use {@code r} from now on. */
  public static void install(Redaction r) {
    current = r;
  }

  /** The redaction in effect. */
  public static Redaction current() {
    return current;
  }
}
