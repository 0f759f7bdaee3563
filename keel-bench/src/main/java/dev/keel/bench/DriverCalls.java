package dev.keel.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;

/**
 * Counts calls of a few JDBC driver methods during a workload with JFR's method timing (JDK 25):
 * the explicit commits of Keel's store (its group committers turn auto-commit off; the floor
 * commits implicitly and is not counted) and the statements it sends. Where the JVM cannot time
 * methods, nothing is counted.
 */
final class DriverCalls {
  private final Recording recording;

  private DriverCalls(Recording recording) {
    this.recording = recording;
  }

  /**
   * What JFR saw of one method (all its overloads).
   *
   * @param calls how many times it was called
   * @param averageMillis the mean duration of a call
   */
  record Calls(long calls, double averageMillis) {}

  /** Starts counting calls of {@code methods} ({@code class::method}), or empty if JFR cannot. */
  static Optional<DriverCalls> start(List<String> methods) {
    if (methods.isEmpty()) {
      return Optional.empty();
    }
    try {
      Recording r = new Recording();
      r.setName("keel-bench-driver-calls");
      r.enable("jdk.MethodTiming")
          .with("filter", String.join(";", methods))
          .with("period", "endChunk");
      r.setToDisk(true);
      r.start();
      return Optional.of(new DriverCalls(r));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Stops counting and returns the calls of each method seen, keyed {@code class::method}. */
  Map<String, Calls> stop() {
    Path file = null;
    try {
      recording.stop();
      file = Files.createTempFile("keel-bench-", ".jfr");
      recording.dump(file);
      Map<String, Calls> out = new HashMap<>();
      for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
        if (!e.getEventType().getName().equals("jdk.MethodTiming")) {
          continue;
        }
        RecordedMethod m = e.getValue("method");
        if (m == null) {
          continue;
        }
        long n = e.getLong("invocations");
        double avg = n == 0 ? 0 : e.getDuration("average").toNanos() / 1e6;
        // one event per overload: add them up, weighting the averages by their calls
        out.merge(
            m.getType().getName() + "::" + m.getName(),
            new Calls(n, avg),
            (a, b) ->
                a.calls() + b.calls() == 0
                    ? a
                    : new Calls(
                        a.calls() + b.calls(),
                        (a.calls() * a.averageMillis() + b.calls() * b.averageMillis())
                            / (a.calls() + b.calls())));
      }
      return out;
    } catch (IOException | RuntimeException e) {
      return Map.of();
    } finally {
      recording.close();
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // a temporary file; the OS cleans it up
        }
      }
    }
  }
}
