package dev.keel.it;

import dev.keel.engine.Engine;
import dev.keel.engine.RunWorker;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.run.CrashPoint;
import dev.keel.run.FaultInjector;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The worker JVM the crash tests kill. Arguments: store URL, ledger URL, armed crash point (or
 * {@code none}), lease milliseconds, park milliseconds (0 parks forever), mode ({@code worker} or
 * {@code create:<goal>:<key>,...}) and, optionally, an OTLP/HTTP endpoint its executions export
 * traces and metrics to. It prints {@code PARKED <point> <run>} when a run reaches the armed point,
 * {@code ENDED <n>} whenever an execution finishes, and {@code READY} once started.
 */
public final class ChildWorker {
  private ChildWorker() {}

  /** Runs the worker until killed. */
  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    String storeUrl = args[0];
    String ledgerUrl = args[1];
    CrashPoint armed = args[2].equals("none") ? null : CrashPoint.valueOf(args[2]);
    Duration lease = Duration.ofMillis(Long.parseLong(args[3]));
    long parkMs = Long.parseLong(args[4]);
    String mode = args[5];
    FaultInjector faults =
        (point, run) -> {
          if (point == armed) {
            synchronized (out) {
              out.println("PARKED " + point + " " + run);
              out.flush();
            }
            try {
              Thread.sleep(parkMs == 0 ? Long.MAX_VALUE : parkMs);
            } catch (InterruptedException x) {
              Thread.currentThread().interrupt();
            }
          }
        };
    RunStore store = Stores.open(storeUrl, faults);
    Engine engine =
        observed(
            CrashAgent.engine(store, ledgerUrl, faults, lease),
            args.length > 6 ? java.util.Optional.of(args[6]) : java.util.Optional.empty());
    if (mode.startsWith("create:")) {
      List<Thread> threads = new ArrayList<>();
      for (String spec : mode.substring(7).split(";")) {
        String[] parts = spec.split("=", 2);
        threads.add(
            Thread.ofVirtual()
                .start(
                    () ->
                        new Runs(engine)
                            .create(
                                Runs.Request.of("t1", "crash", JsonValue.object("goal", parts[1]))
                                    .withIdempotencyKey(parts[0]))));
      }
      out.println("READY");
      out.flush();
      for (Thread t : threads) {
        t.join();
      }
      out.println("CREATED");
      out.flush();
      Thread.sleep(Long.MAX_VALUE);
      return;
    }
    RunWorker worker =
        new RunWorker(
            engine,
            "child-" + ProcessHandle.current().pid(),
            x -> {
              synchronized (out) {
                out.println("FAILURE " + x);
                out.flush();
              }
            });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    boolean drained = worker.drain(Duration.ofSeconds(20));
                    synchronized (out) {
                      out.println("DRAINED " + drained);
                      out.flush();
                    }
                  } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                  }
                }));
    out.println("READY");
    out.flush();
    long seen = 0;
    while (true) {
      long done = worker.completedExecutions();
      if (done != seen) {
        seen = done;
        synchronized (out) {
          out.println("ENDED " + done);
          out.flush();
        }
      }
      Thread.sleep(5);
    }
  }

  /** {@code engine} exporting traces and metrics to {@code otlp}, when given. */
  private static Engine observed(Engine engine, java.util.Optional<String> otlp) {
    if (otlp.isEmpty()) {
      return engine;
    }
    // never closed: the process ends by SIGKILL or with the JVM
    dev.keel.observe.Telemetry telemetry =
        dev.keel.observe.Telemetry.create(
            otlp,
            Duration.ofSeconds(1),
            "keel-child-" + ProcessHandle.current().pid(),
            dev.keel.redact.Redaction.secrets());
    return engine.withObserver(telemetry.observer());
  }
}
