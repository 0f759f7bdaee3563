package dev.keel.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** The results as tables, for the console and as markdown. */
final class Report {
  private static final String WORK_LEGEND =
      "appends: fenced writes the engine asked of the store; commits: COMMITs Keel's store sent"
          + " (counted with JFR's method timing in one extra batch after the timed ones, since the"
          + " instrumentation slows the driver; one group commit carries many appends); ms/commit:"
          + " mean time in commit() in that batch, the fsync included; statements: PostgreSQL round trips (Sync messages) or"
          + " SQLite statements compiled; DB transactions: pg_stat_database.xact_commit of the"
          + " benchmark's database, reads included; JVM CPU: CPU time of this process (engine,"
          + " driver and, for SQLite, the database itself) per step of the timed repetitions; tool calls repeated: calls made"
          + " again after a run changed hands (its lease lapsed), beyond one per step.";

  private final String header;
  private final List<String> notes = new ArrayList<>();
  private final Table main;
  private final Table work;
  private final Table spread;
  private final Table heap;

  /** Builds the tables from what was measured. */
  Report(
      String started,
      String loadBefore,
      String loadAfter,
      Options options,
      KeelBench.Sizes sizes,
      List<KeelBench.StoreFigures> figures,
      List<HeapProbe.Result> heaps,
      List<String> heapNotes) {
    String single = "1 x " + sizes.singleSteps();
    String conc = sizes.concRuns() + " x " + sizes.concSteps();
    String many = String.format("%,d x %d", sizes.manyRuns(), sizes.manySteps());
    this.header =
        "Keel bench "
            + started
            + ", "
            + Runtime.getRuntime().availableProcessors()
            + " CPUs, JDK "
            + Runtime.version()
            + ", max heap "
            + (Runtime.getRuntime().maxMemory() >> 20)
            + " MB, load average "
            + loadBefore
            + " at start, "
            + loadAfter
            + " at end"
            + (options.quick() ? ", QUICK counts" : "")
            + ". A step is one model call and one keyed no-op tool call; the floor's step is one"
            + " INSERT + COMMIT. Medians of "
            + sizes.singleReps()
            + " single runs after "
            + sizes.warmups()
            + " or more warm-ups (for at least "
            + sizes.warmupSeconds()
            + " s for Keel), of "
            + sizes.concReps()
            + " batches of "
            + conc
            + " and of "
            + sizes.manyReps()
            + " batches of "
            + many
            + " (each after one warm-up batch); the floor is measured before and after Keel and the"
            + " median taken over both.";
    this.main =
        new Table(
            List.of(
                "store",
                "floor ms/step",
                "Keel ms/step (" + single + ")",
                "Keel / floor (target <= 2)",
                "floor steps/s (" + conc + ")",
                "Keel steps/s (" + conc + ")",
                "Keel / floor " + sizes.concRuns(),
                "Keel steps/s (" + many + ")",
                "Keel / floor " + sizes.concRuns() + " (target >= 3)"));
    this.spread =
        new Table(
            List.of(
                "store",
                "floor ms/step min..max",
                "Keel ms/step min..max",
                "floor " + conc + " min..max",
                "Keel " + conc + " min..max",
                "Keel " + many + " min..max"));
    this.work =
        new Table(
            List.of(
                "store",
                "workload",
                "steps",
                "appends/step",
                "events/step",
                "claim calls/run",
                "loads/run",
                "commits/step",
                "ms/commit",
                "statements/step",
                "JVM CPU ms/step",
                "tool calls repeated",
                "DB transactions/step"));
    for (KeelBench.StoreFigures f : figures) {
      addStore(f, sizes.concRuns());
    }
    this.heap =
        new Table(
            List.of(
                "store",
                "runs waiting",
                "heap before MB",
                "heap after MB",
                "growth MB",
                "bytes/run",
                "store size MB",
                "s to park all",
                "parks/s",
                "runs held by worker"));
    for (HeapProbe.Result h : heaps) {
      heap.add(
          List.of(
              h.store(),
              String.format("%,d", h.runs()),
              Table.number(h.beforeBytes() / 1e6, 1),
              Table.number(h.afterBytes() / 1e6, 1),
              Table.number((h.afterBytes() - h.beforeBytes()) / 1e6, 1),
              Table.number(h.bytesPerRun(), 0),
              h.storeBytes().isPresent()
                  ? Table.number(h.storeBytes().getAsLong() / 1e6, 1)
                  : Table.NONE,
              Table.number(h.parkNanos() / 1e9, 1),
              Table.number(h.runs() / (h.parkNanos() / 1e9), 0),
              Integer.toString(h.activeAfter())));
      notes.add(
          String.format(
              "heap (%s): %,d runs waiting for a person grew the worker's heap by %s bytes per"
                  + " run (target: none).",
              h.store(), h.runs(), Table.number(h.bytesPerRun(), 0)));
    }
    notes.addAll(heapNotes);
  }

  private void addStore(KeelBench.StoreFigures f, int concRuns) {
    Optional<KeelBench.FloorFigures> floor = f.floor();
    Optional<KeelBench.KeelFigures> keel = f.keel();
    double floorMs = median(floor.map(KeelBench.FloorFigures::msPerStep));
    double floorConc = median(floor.map(KeelBench.FloorFigures::concStepsPerSecond));
    double keelMs = median(keel.map(KeelBench.KeelFigures::msPerStep));
    double keelConc = median(keel.map(KeelBench.KeelFigures::concStepsPerSecond));
    double keelMany = median(keel.map(KeelBench.KeelFigures::manyStepsPerSecond));
    main.add(
        List.of(
            f.label(),
            Table.number(floorMs, 3),
            Table.number(keelMs, 3),
            Table.ratio(keelMs / floorMs),
            Table.number(floorConc, 0),
            Table.number(keelConc, 0),
            Table.ratio(keelConc / floorConc),
            Table.number(keelMany, 0),
            Table.ratio(keelMany / floorConc)));
    spread.add(
        List.of(
            f.label(),
            range(floor.map(KeelBench.FloorFigures::msPerStep), 3),
            range(keel.map(KeelBench.KeelFigures::msPerStep), 3),
            range(floor.map(KeelBench.FloorFigures::concStepsPerSecond), 0),
            range(keel.map(KeelBench.KeelFigures::concStepsPerSecond), 0),
            range(keel.map(KeelBench.KeelFigures::manyStepsPerSecond), 0)));
    keel.ifPresent(
        k -> {
          for (KeelBench.Work w : k.work()) {
            Function<Long, String> perStep = n -> Table.number(n / (double) w.steps(), 2);
            Function<Long, String> perProbedStep =
                n -> Table.number(n / (double) w.probedSteps(), 2);
            Function<Long, String> perRun = n -> Table.number(n / (double) w.runs(), 2);
            work.add(
                List.of(
                    f.label(),
                    w.label(),
                    String.format("%,d", w.steps()),
                    perStep.apply(w.counts().appends()),
                    perStep.apply(w.counts().events()),
                    perRun.apply(w.counts().claims()),
                    perRun.apply(w.counts().loads()),
                    w.commits().map(c -> perProbedStep.apply(c.calls())).orElse(Table.NONE),
                    w.commits().map(c -> Table.number(c.averageMillis(), 2)).orElse(Table.NONE),
                    w.statements().map(c -> perProbedStep.apply(c.calls())).orElse(Table.NONE),
                    w.cpuNanos() < 0 ? Table.NONE : Table.number(w.cpuNanos() / 1e6 / w.steps(), 3),
                    String.format("%,d", w.repeatedCalls()),
                    w.transactions().isPresent()
                        ? perStep.apply(w.transactions().getAsLong())
                        : Table.NONE));
          }
        });
    if (floor.isPresent() && keel.isPresent()) {
      notes.add(
          String.format(
              "%s: one run costs %s the floor per step (target <= 2x: %s); %s concurrent runs"
                  + " give %s the floor's %d-connection throughput (target >= 3x: %s).",
              f.label(),
              Table.ratio(keelMs / floorMs),
              keelMs <= 2 * floorMs ? "met" : "missed",
              String.format("%,d", sizesOf(keel.get())),
              Table.ratio(keelMany / floorConc),
              concRuns,
              keelMany >= 3 * floorConc ? "met" : "missed"));
    }
    for (String n : f.notes()) {
      notes.add(f.key() + ": " + n);
    }
  }

  private static int sizesOf(KeelBench.KeelFigures k) {
    String label = k.work().getLast().label();
    return Integer.parseInt(label.substring(0, label.indexOf(' ')).replace(",", ""));
  }

  private static double median(Optional<List<Double>> values) {
    return values.filter(v -> !v.isEmpty()).map(Stats::median).orElse(Double.NaN);
  }

  private static String range(Optional<List<Double>> values, int digits) {
    return values.filter(v -> !v.isEmpty()).map(v -> Stats.range(v, digits)).orElse(Table.NONE);
  }

  /** The report for the console. */
  String text() {
    StringBuilder out = new StringBuilder();
    out.append(header).append("\n\n");
    if (!main.rows().isEmpty()) {
      out.append(main.aligned()).append('\n');
      out.append("Spread across repetitions\n").append(spread.aligned()).append('\n');
      out.append("Store work per step (timed repetitions)\n").append(work.aligned());
      out.append(WORK_LEGEND).append("\n\n");
    }
    if (!heap.rows().isEmpty()) {
      out.append("Runs waiting for a person\n").append(heap.aligned()).append('\n');
    }
    for (String n : notes) {
      out.append("- ").append(n).append('\n');
    }
    return out.toString();
  }

  /** The report as markdown. */
  String markdown() {
    StringBuilder out = new StringBuilder("# Keel bench results\n\n");
    out.append(header).append("\n\n");
    if (!main.rows().isEmpty()) {
      out.append(main.markdown()).append('\n');
      out.append("## Spread across repetitions\n\n").append(spread.markdown()).append('\n');
      out.append("## Store work per step (timed repetitions)\n\n")
          .append(work.markdown())
          .append('\n')
          .append(WORK_LEGEND)
          .append("\n\n");
    }
    if (!heap.rows().isEmpty()) {
      out.append("## Runs waiting for a person\n\n").append(heap.markdown()).append('\n');
    }
    for (String n : notes) {
      out.append("- ").append(n).append('\n');
    }
    return out.toString();
  }
}
