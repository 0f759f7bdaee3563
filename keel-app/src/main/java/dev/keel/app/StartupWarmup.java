package dev.keel.app;

import java.util.List;
import java.util.Map;

/**
 * Prepares, on a background thread, the parts of a long-lived process that are slow to initialise
 * and that the main thread reaches only later: logging, the default TLS context (webhooks, HTTP
 * tools and model providers), the JSON Schema meta-schemas (tool and output schemas), the SQLite
 * native library and the HTTP server's classes. On a small machine this overlaps with the main
 * thread's command-line parsing, configuration and store opening, so {@code keel serve} is ready
 * sooner (see docs/decisions/0008-startup-warmup.md).
 *
 * <p>Each step only initialises what the main thread would initialise anyway; a failure here is
 * ignored, because the main thread meets the same failure where it is reported properly. Class
 * initialisation is thread-safe: if the main thread needs a class the warm-up thread is still
 * initialising, it waits for it instead of doing the work twice.
 */
final class StartupWarmup {
  private static final String SCHEMAS = "dev.keel.tools.schema.JsonSchema";
  private static final List<String> SERVER_CLASSES =
      List.of(
          "org.eclipse.jetty.server.Server",
          "org.eclipse.jetty.ee10.servlet.ServletContextHandler",
          "io.javalin.Javalin");

  private StartupWarmup() {}

  /**
   * Starts the warm-up for {@code serve} and {@code worker}; does nothing for other commands or
   * when the system property {@code keel.warmup} is {@code false} (to measure its effect).
   */
  static void begin(String[] args, Map<String, String> env) {
    if (args.length == 0
        || !(args[0].equals("serve") || args[0].equals("worker"))
        || "false".equals(System.getProperty("keel.warmup"))) {
      return;
    }
    boolean sqlite = !env.getOrDefault("KEEL_STORE_URL", "").startsWith("jdbc:postgresql:");
    Thread t = new Thread(() -> run(sqlite), "keel-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.NORM_PRIORITY - 1);
    t.start();
  }

  private static void run(boolean sqlite) {
    // in the order the main thread needs them: logging, the store, tool schemas, TLS, the server
    step(() -> org.slf4j.LoggerFactory.getILoggerFactory());
    if (sqlite) {
      step(org.sqlite.SQLiteJDBCLoader::initialize);
    }
    step(() -> Class.forName(SCHEMAS, true, StartupWarmup.class.getClassLoader()));
    step(() -> javax.net.ssl.SSLContext.getDefault());
    for (String cls : SERVER_CLASSES) {
      step(() -> Class.forName(cls, true, StartupWarmup.class.getClassLoader()));
    }
  }

  private interface Step {
    Object run() throws Exception;
  }

  @SuppressWarnings("CatchingUnchecked") // any failure is met again, and reported, by the main path
  private static void step(Step s) {
    try {
      s.run();
    } catch (Exception | LinkageError e) {
      // ignored: see the class comment
    }
  }
}
