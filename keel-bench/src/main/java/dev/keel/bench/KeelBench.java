package dev.keel.bench;

import dev.keel.engine.EngineConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The benchmark program: per store, the physical floor (one INSERT + COMMIT per step) and Keel's
 * harness cost per step for one run and its throughput with 20 and 1,000 concurrent runs, then the
 * heap cost of runs waiting for a person. Prints one table and writes it as markdown.
 *
 * <p>Run it with {@code keel-bench/run.sh [--store sqlite|postgres|memory|all] [--quick] ...}.
 */
public final class KeelBench {
  private static final Duration BATCH_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration HEAP_TIMEOUT = Duration.ofMinutes(40);
  // Held so the level sticks: Flyway logs every migration through java.util.logging.
  private static final Logger FLYWAY_LOG = Logger.getLogger("org.flywaydb");

  private final Options options;
  private final Sizes sizes;
  private final PrintStream log = System.out;

  private KeelBench(Options options) {
    this.options = options;
    this.sizes = options.quick() ? Sizes.QUICK : Sizes.FULL;
  }

  /**
   * How much to measure.
   *
   * @param singleSteps steps of the single run
   * @param singleReps timed single runs (the median is reported)
   * @param warmups untimed single runs first (at least)
   * @param warmupSeconds Keel's untimed single runs go on until this long has passed, so the JIT
   *     has compiled the engine's hot paths: a server runs warm, and so is the floor's one INSERT
   *     after a few hundred rows
   * @param concRuns runs of the small concurrent batch
   * @param concSteps steps of each run in it
   * @param concReps timed small batches
   * @param manyRuns runs of the large concurrent batch
   * @param manySteps steps of each run in it
   * @param manyReps timed large batches
   */
  record Sizes(
      int singleSteps,
      int singleReps,
      int warmups,
      int warmupSeconds,
      int concRuns,
      int concSteps,
      int concReps,
      int manyRuns,
      int manySteps,
      int manyReps) {
    static final Sizes FULL = new Sizes(200, 5, 2, 20, 20, 50, 3, 1000, 10, 3);
    static final Sizes QUICK = new Sizes(200, 3, 1, 3, 20, 50, 2, 200, 10, 1);
  }

  /** Per-step figures of the floor, one value per repetition. */
  record FloorFigures(List<Double> msPerStep, List<Double> concStepsPerSecond) {}

  /**
   * What one workload cost in store work.
   *
   * @param label the workload, such as {@code 20 x 50}
   * @param steps tool steps in the timed repetitions
   * @param runs runs in the timed repetitions
   * @param counts what the engine asked of the store
   * @param commits explicit commits of Keel's store, where JFR could count them
   * @param statements statements Keel's store sent, where JFR could count them
   * @param probedSteps steps of the extra batch the commits and statements were counted in
   * @param transactions transactions the database committed, where it counts them
   * @param repeatedCalls tool calls made again after a run changed hands
   * @param cpuNanos CPU time this JVM used meanwhile, all threads (SQLite's work included, the
   *     PostgreSQL server's not)
   */
  record Work(
      String label,
      long steps,
      long runs,
      ObservedRunStore.Counts counts,
      Optional<DriverCalls.Calls> commits,
      Optional<DriverCalls.Calls> statements,
      long probedSteps,
      OptionalLong transactions,
      long repeatedCalls,
      long cpuNanos) {}

  /** Keel's figures on one store, one value per repetition. */
  record KeelFigures(
      List<Double> msPerStep,
      List<Double> concStepsPerSecond,
      List<Double> manyStepsPerSecond,
      List<Work> work) {}

  /** Everything measured on one store. */
  record StoreFigures(
      String key,
      String label,
      Optional<FloorFigures> floor,
      Optional<KeelFigures> keel,
      List<String> notes) {}

  /** Runs the benchmark; see {@link Options} for the arguments. */
  public static void main(String[] args) throws Exception {
    FLYWAY_LOG.setLevel(Level.WARNING);
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    new KeelBench(options).run();
    System.exit(0);
  }

  private void run() throws InterruptedException, IOException {
    String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    String loadBefore = loadAverage();
    log.printf(
        "Keel bench %s: %d CPUs, JDK %s, max heap %d MB, load average %s%s%n",
        started,
        Runtime.getRuntime().availableProcessors(),
        Runtime.version(),
        Runtime.getRuntime().maxMemory() >> 20,
        loadBefore,
        options.quick() ? ", QUICK counts" : "");
    if (options.soak().isPresent()) {
      for (String key : options.stores()) {
        soak(key, options.soak().get());
      }
      return;
    }
    List<StoreFigures> figures = new ArrayList<>();
    if (options.throughput()) {
      for (String key : options.stores()) {
        log.println("== " + key);
        figures.add(measureStore(key));
      }
    }
    List<HeapProbe.Result> heaps = new ArrayList<>();
    List<String> heapNotes = new ArrayList<>();
    if (options.heap()) {
      for (String key : options.heapStores()) {
        log.printf("== heap: %,d runs waiting for a person on %s%n", options.heapRuns(), key);
        try (BenchDatabase db = open(key)) {
          heaps.add(HeapProbe.measure(db, options.heapRuns(), HEAP_TIMEOUT, log));
        } catch (RuntimeException e) {
          heapNotes.add(key + ": not measured: " + e.getMessage());
          log.println("  not measured: " + e);
        }
      }
    }
    String loadAfter = loadAverage();
    Report report =
        new Report(started, loadBefore, loadAfter, options, sizes, figures, heaps, heapNotes);
    log.println();
    log.print(report.text());
    Path out = options.out();
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    Files.writeString(out, report.markdown());
    log.println("written to " + out);
  }

  /** Repeats one workload for a profiler, printing each batch's figures. */
  private void soak(String key, Options.Soak soak) throws InterruptedException {
    log.printf("== %s: %d x %d for %d s%n", key, soak.runs(), soak.steps(), soak.seconds());
    try (BenchDatabase db = open(key);
        KeelRig rig = new KeelRig(db.openStore(), List.of(soak.steps()), EngineConfig.DEFAULT)) {
      long end = System.nanoTime() + soak.seconds() * 1_000_000_000L;
      while (System.nanoTime() < end) {
        long cpu = processCpuNanos();
        KeelRig.Batch b = rig.runBatch(soak.runs(), soak.steps(), BATCH_TIMEOUT);
        log.printf(
            "  %s ms/step, %s steps/s, %s ms JVM CPU/step%n",
            Table.number(b.millisPerStep(), 3),
            Table.number(b.stepsPerSecond(), 0),
            Table.number((processCpuNanos() - cpu) / 1e6 / b.steps(), 3));
      }
    }
  }

  static BenchDatabase open(String key) {
    return switch (key) {
      case "sqlite" -> new SqliteDatabase();
      case "postgres" -> new PostgresDatabase();
      case "memory" -> new MemoryDatabase();
      default -> throw new IllegalArgumentException("unknown store " + key);
    };
  }

  private StoreFigures measureStore(String key) throws InterruptedException {
    List<String> notes = new ArrayList<>();
    BenchDatabase db;
    try {
      db = open(key);
    } catch (RuntimeException e) {
      log.println("  not measured: " + e.getMessage());
      notes.add("not measured: " + e.getMessage());
      return new StoreFigures(key, key, Optional.empty(), Optional.empty(), notes);
    }
    try (db) {
      Optional<FloorFigures> floor = Optional.empty();
      Optional<KeelFigures> keel = Optional.empty();
      List<FloorFigures> floorPasses = new ArrayList<>();
      if (db.hasFloor()) {
        floorPasses.add(measureFloor(db));
      }
      try {
        keel = Optional.of(measureKeel(db));
      } catch (UnsupportedOperationException | IllegalStateException e) {
        log.println("  Keel not measured: " + e.getMessage());
        notes.add("Keel not measured: " + e.getMessage());
      }
      if (db.hasFloor()) {
        // The floor again after Keel, so drift in the machine's load affects both alike.
        floorPasses.add(measureFloor(db));
        List<Double> ms = new ArrayList<>();
        List<Double> conc = new ArrayList<>();
        for (FloorFigures f : floorPasses) {
          ms.addAll(f.msPerStep());
          conc.addAll(f.concStepsPerSecond());
        }
        floor = Optional.of(new FloorFigures(ms, conc));
      }
      return new StoreFigures(key, db.label(), floor, keel, notes);
    } catch (SQLException e) {
      log.println("  failed: " + e);
      notes.add("failed: " + e.getMessage());
      return new StoreFigures(key, key, Optional.empty(), Optional.empty(), notes);
    }
  }

  private FloorFigures measureFloor(BenchDatabase db) throws SQLException, InterruptedException {
    Floor floor = new Floor(db);
    int steps = sizes.singleSteps();
    for (int i = 0; i < sizes.warmups(); i++) {
      floor.singleRunMillis(steps);
    }
    floor.concurrentStepsPerSecond(sizes.concRuns(), sizes.concSteps());
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < sizes.singleReps(); i++) {
      ms.add(floor.singleRunMillis(steps) / steps);
    }
    List<Double> conc = new ArrayList<>();
    for (int i = 0; i < sizes.concReps(); i++) {
      conc.add(floor.concurrentStepsPerSecond(sizes.concRuns(), sizes.concSteps()));
    }
    log.printf(
        "  floor: %s ms/step (1 x %d), %s steps/s (%d x %d)%n",
        Table.number(Stats.median(ms), 3),
        steps,
        Table.number(Stats.median(conc), 0),
        sizes.concRuns(),
        sizes.concSteps());
    return new FloorFigures(ms, conc);
  }

  private KeelFigures measureKeel(BenchDatabase db) throws InterruptedException {
    List<Integer> lengths =
        List.of(sizes.singleSteps(), sizes.concSteps(), sizes.manySteps()).stream()
            .distinct()
            .toList();
    if (db.keepsRunsInHeap()) {
      try (KeelRig warm = new KeelRig(db.openStore(), lengths, EngineConfig.DEFAULT)) {
        warmUp(warm);
      }
    }
    try (KeelRig rig = new KeelRig(db.openStore(), lengths, EngineConfig.DEFAULT)) {
      List<Work> work = new ArrayList<>();
      if (!db.keepsRunsInHeap()) {
        warmUp(rig);
      }
      List<Double> single = new ArrayList<>();
      work.add(
          timed(
              db,
              rig,
              "1 x " + sizes.singleSteps(),
              sizes.singleReps(),
              1,
              sizes.singleSteps(),
              b -> single.add(b.millisPerStep())));
      log.printf(
          "  Keel: %s ms/step (1 x %d)%n",
          Table.number(Stats.median(single), 3), sizes.singleSteps());
      rig.runBatch(sizes.concRuns(), sizes.concSteps(), BATCH_TIMEOUT);
      List<Double> conc = new ArrayList<>();
      work.add(
          timed(
              db,
              rig,
              sizes.concRuns() + " x " + sizes.concSteps(),
              sizes.concReps(),
              sizes.concRuns(),
              sizes.concSteps(),
              b -> conc.add(b.stepsPerSecond())));
      log.printf(
          "  Keel: %s steps/s (%d x %d)%n",
          Table.number(Stats.median(conc), 0), sizes.concRuns(), sizes.concSteps());
      rig.runBatch(sizes.manyRuns(), sizes.manySteps(), BATCH_TIMEOUT);
      List<Double> many = new ArrayList<>();
      work.add(
          timed(
              db,
              rig,
              sizes.manyRuns() + " x " + sizes.manySteps(),
              sizes.manyReps(),
              sizes.manyRuns(),
              sizes.manySteps(),
              b -> many.add(b.stepsPerSecond())));
      log.printf(
          "  Keel: %s steps/s (%d x %d)%n",
          Table.number(Stats.median(many), 0), sizes.manyRuns(), sizes.manySteps());
      return new KeelFigures(single, conc, many, work);
    }
  }

  /** Single runs, untimed, at least {@code warmups} of them and for at least warmupSeconds. */
  private void warmUp(KeelRig rig) throws InterruptedException {
    long warmEnd = System.nanoTime() + sizes.warmupSeconds() * 1_000_000_000L;
    for (int i = 0; i < sizes.warmups() || System.nanoTime() < warmEnd; i++) {
      rig.runBatch(1, sizes.singleSteps(), BATCH_TIMEOUT);
    }
  }

  private Work timed(
      BenchDatabase db,
      KeelRig rig,
      String label,
      int reps,
      int runs,
      int steps,
      java.util.function.Consumer<KeelRig.Batch> each)
      throws InterruptedException {
    OptionalLong txBefore = settledTransactions(db);
    ObservedRunStore.Counts before = rig.store().counts();
    long cpuBefore = processCpuNanos();
    long stepsDone = 0;
    long repeated = 0;
    for (int i = 0; i < reps; i++) {
      KeelRig.Batch b = rig.runBatch(runs, steps, BATCH_TIMEOUT);
      stepsDone += b.steps();
      repeated += b.repeatedCalls();
      each.accept(b);
    }
    long cpu = processCpuNanos() - cpuBefore;
    ObservedRunStore.Counts counts = rig.store().counts().minus(before);
    OptionalLong txAfter = settledTransactions(db);
    OptionalLong tx =
        txBefore.isPresent() && txAfter.isPresent()
            ? OptionalLong.of(txAfter.getAsLong() - txBefore.getAsLong())
            : OptionalLong.empty();
    // Commits and statements are counted in one more batch of their own: JFR's method timing
    // instruments the driver and slows it several times over, so the timed batches run without it.
    Optional<BenchDatabase.DriverProbe> probe = db.driverProbe();
    Optional<DriverCalls> calls =
        probe.flatMap(
            p ->
                DriverCalls.start(
                    p.commit().isPresent()
                        ? List.of(p.commit().get(), p.statement())
                        : List.of(p.statement())));
    long probedSteps = calls.isPresent() ? rig.runBatch(runs, steps, BATCH_TIMEOUT).steps() : 0;
    Map<String, DriverCalls.Calls> seen = calls.map(DriverCalls::stop).orElse(Map.of());
    Optional<DriverCalls.Calls> commits = probe.flatMap(p -> p.commit().map(seen::get));
    Optional<DriverCalls.Calls> statements =
        probe.flatMap(p -> Optional.ofNullable(seen.get(p.statement())));
    return new Work(
        label,
        stepsDone,
        (long) runs * reps,
        counts,
        commits,
        statements,
        probedSteps,
        tx,
        repeated,
        cpu);
  }

  /** The database's commit count once the counts of a burst have been published. */
  private static OptionalLong settledTransactions(BenchDatabase db) throws InterruptedException {
    if (db.transactions().isEmpty()) {
      return OptionalLong.empty();
    }
    Thread.sleep(1_500);
    return db.transactions();
  }

  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : -1;
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
