package dev.keel.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child worker JVM the test can SIGKILL, SIGSTOP and SIGCONT, with its stdout as lines. */
final class Child implements AutoCloseable {
  private final Process process;
  final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  final List<String> history = java.util.Collections.synchronizedList(new ArrayList<>());
  private final Path log;

  private Child(Process process, Path log) {
    this.process = process;
    this.log = log;
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  history.add(line);
                  lines.add(line);
                }
              } catch (IOException ignored) {
                // the process died; its lines so far were read
              }
            });
  }

  static Child start(String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                cp,
                ChildWorker.class.getName()));
    cmd.addAll(List.of(args));
    Path log = Files.createTempFile("keel-child", ".err");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    Child c = new Child(p, log);
    c.await("READY", Duration.ofSeconds(60));
    return c;
  }

  long pid() {
    return process.pid();
  }

  /**
   * Waits for a line starting with {@code prefix}; fails with the child's stderr if it does not
   * come.
   */
  String await(String prefix, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    try {
      while (System.nanoTime() < end) {
        String line = lines.poll(50, TimeUnit.MILLISECONDS);
        if (line != null && line.startsWith(prefix)) {
          return line;
        }
        if (line == null && !process.isAlive()) {
          break;
        }
      }
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    }
    throw new AssertionError(
        "child "
            + pid()
            + " did not print "
            + prefix
            + " in "
            + timeout
            + "; stderr:\n"
            + stderr());
  }

  String stderr() {
    try {
      String s =
          "stdout: "
              + String.join(
                  " | ", history.subList(Math.max(0, history.size() - 40), history.size()))
              + "\nstderr: "
              + Files.readString(log);
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException x) {
      return "(unreadable: " + x + ")";
    }
  }

  void signal(String sig) throws IOException, InterruptedException {
    int rc =
        new ProcessBuilder("kill", "-" + sig, Long.toString(pid())).inheritIO().start().waitFor();
    if (rc != 0 && !sig.equals("KILL")) {
      throw new AssertionError("kill -" + sig + " " + pid() + " failed with " + rc);
    }
  }

  /** SIGKILL, and wait until the process is gone. */
  void kill() throws IOException, InterruptedException {
    signal("KILL");
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new AssertionError("child " + pid() + " survived SIGKILL");
    }
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      kill();
    }
    Files.deleteIfExists(log);
  }
}
