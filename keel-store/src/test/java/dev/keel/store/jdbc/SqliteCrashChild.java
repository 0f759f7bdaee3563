package dev.keel.store.jdbc;

import dev.keel.json.JsonValue;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.store.Append;
import dev.keel.store.Disposition;
import dev.keel.store.Lease;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import dev.keel.store.RunStore;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A process the crash test kills: it appends to several runs at once through one store forever and
 * prints {@code ACK <run> <seq>} after each append has returned (so is acknowledged durable).
 */
final class SqliteCrashChild {
  private SqliteCrashChild() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int runs = Integer.parseInt(args[1]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    RunStore store = new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE);
    List<Future<?>> drivers = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int r = 0; r < runs; r++) {
        int index = r;
        drivers.add(ex.submit(() -> drive(store, RunId.of("run_crash_" + index), out)));
      }
      for (Future<?> f : drivers) {
        f.get(); // the drivers run until the process is killed; a failure ends it loudly
      }
    }
  }

  private static void drive(RunStore store, RunId id, PrintStream out) {
    EventEnvelope env =
        new EventEnvelope(
            id,
            1,
            Instant.now(),
            0,
            new RunEvent.RunCreated(
                "crash",
                "a",
                "v1",
                JsonValue.object("goal", "g"),
                Budget.DEFAULT,
                "api",
                Optional.empty(),
                Optional.empty(),
                JsonValue.EMPTY_OBJECT));
    store.create(
        new NewRun(
            id,
            "crash",
            Optional.empty(),
            new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env))));
    Lease lease = null;
    while (lease == null) {
      lease =
          store.claim(id.value(), Duration.ofMinutes(5), 100).stream()
              .filter(l -> l.runId().equals(id))
              .findFirst()
              .orElse(null);
    }
    RunState state = RunState.initial(env);
    out.println("ACK " + id + " 1");
    for (int i = 0; ; i++) {
      RunEvent e =
          i == 0
              ? new RunEvent.RunStarted()
              : new RunEvent.DecisionRecorded(1, "act", JsonValue.object("i", (long) i));
      EventEnvelope next =
          new EventEnvelope(id, state.lastSeq() + 1, Instant.now(), lease.epoch(), e);
      RunState after = state.apply(next);
      lease =
          store.append(
              new Append(
                  lease,
                  state.lastSeq(),
                  List.of(new RecordedEvent(next, Hashes.chain(state.chainHash(), next))),
                  after,
                  Optional.empty(),
                  Disposition.KEEP,
                  Duration.ofMinutes(5)));
      state = after;
      out.println("ACK " + id + " " + state.lastSeq());
    }
  }
}
