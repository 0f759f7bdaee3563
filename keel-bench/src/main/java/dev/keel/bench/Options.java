package dev.keel.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line: {@code [--store sqlite|postgres|memory|all[,...]] [--mode all|throughput|heap]
 * [--heap-store sqlite|postgres|all[,...]] [--heap-runs N] [--quick] [--out FILE]}.
 *
 * @param stores the stores to measure throughput on
 * @param throughput whether to measure the floor and Keel's per-step figures
 * @param heap whether to measure the heap with parked runs
 * @param heapStores the stores to park runs on (default SQLite only)
 * @param heapRuns how many runs to park
 * @param quick small counts, for trying the program out
 * @param out where the markdown results go
 * @param soak a workload to repeat for profiling instead of the report ({@code --mode soak})
 */
record Options(
    List<String> stores,
    boolean throughput,
    boolean heap,
    List<String> heapStores,
    int heapRuns,
    boolean quick,
    Path out,
    java.util.Optional<Soak> soak) {

  /**
   * {@code --mode soak}: one workload of {@code runs} runs of {@code steps} steps each, repeated
   * for {@code seconds} on each store, printing each batch's figures; no report. For profilers.
   */
  record Soak(int runs, int steps, int seconds) {}

  static final String USAGE =
      "usage: KeelBench [--store sqlite|postgres|memory|all[,...]] [--mode all|throughput|heap|soak]"
          + " [--workload RUNSxSTEPS] [--seconds N] [--heap-store sqlite|postgres|all[,...]] [--heap-runs N] [--quick] [--out FILE]";

  /** Parses {@code args}, failing with the usage line on anything unknown. */
  static Options parse(String[] args) {
    String store = "all";
    String mode = "all";
    String heapStore = null;
    Integer heapRuns = null;
    boolean quick = false;
    String workload = "1x200";
    int seconds = 60;
    Path out =
        Files.isDirectory(Path.of("keel-bench"))
            ? Path.of("keel-bench", "target", "bench-results.md")
            : Path.of("target", "bench-results.md");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--store" -> store = value(args, ++i, a);
        case "--mode" -> mode = value(args, ++i, a);
        case "--heap-store" -> heapStore = value(args, ++i, a);
        case "--heap-runs" -> heapRuns = whole(value(args, ++i, a), a);
        case "--quick" -> quick = true;
        case "--workload" -> workload = value(args, ++i, a);
        case "--seconds" -> seconds = whole(value(args, ++i, a), a);
        case "--out" -> out = Path.of(value(args, ++i, a));
        case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
        default -> throw new IllegalArgumentException("unknown argument '" + a + "'\n" + USAGE);
      }
    }
    List<String> stores = stores(store, "--store", true);
    // Parking 100,000 runs takes minutes per store, so by default only on the embedded store.
    List<String> heapStores =
        heapStore == null ? List.of("sqlite") : stores(heapStore, "--heap-store", false);
    if (!List.of("all", "throughput", "heap", "soak").contains(mode)) {
      throw new IllegalArgumentException(
          "--mode must be all, throughput, heap or soak, got '" + mode + "'\n" + USAGE);
    }
    java.util.Optional<Soak> soak = java.util.Optional.empty();
    if (mode.equals("soak")) {
      String[] parts = workload.split("x", -1);
      if (parts.length != 2
          || !parts[0].matches("[1-9][0-9]{0,8}")
          || !parts[1].matches("[1-9][0-9]{0,8}")
          || seconds < 1) {
        throw new IllegalArgumentException(
            "--workload must be RUNSxSTEPS such as 1x200 and --seconds positive, got '"
                + workload
                + "' and "
                + seconds
                + "\n"
                + USAGE);
      }
      soak =
          java.util.Optional.of(
              new Soak(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), seconds));
    }
    int runs = heapRuns != null ? heapRuns : quick ? 2_000 : 100_000;
    if (runs < 1) {
      throw new IllegalArgumentException("--heap-runs must be positive, got " + runs);
    }
    return new Options(
        stores,
        mode.equals("all") || mode.equals("throughput"),
        mode.equals("all") || mode.equals("heap"),
        heapStores,
        runs,
        quick,
        out,
        soak);
  }

  private static int whole(String text, String flag) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          flag + " must be a whole number, got '" + text + "'\n" + USAGE, e);
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
    }
    return args[i];
  }

  private static List<String> stores(String values, String flag, boolean memoryAllowed) {
    List<String> out = new ArrayList<>();
    for (String value : values.split(",")) {
      for (String s : store(value.trim(), flag, memoryAllowed)) {
        if (!out.contains(s)) {
          out.add(s);
        }
      }
    }
    return out;
  }

  private static List<String> store(String value, String flag, boolean memoryAllowed) {
    List<String> out = new ArrayList<>();
    switch (value) {
      case "all" -> {
        out.add("sqlite");
        out.add("postgres");
        if (memoryAllowed) {
          out.add("memory");
        }
      }
      case "sqlite", "postgres" -> out.add(value);
      case "memory" -> {
        if (!memoryAllowed) {
          throw new IllegalArgumentException(
              flag + " memory makes no sense: the in-memory store keeps every run on the heap");
        }
        out.add(value);
      }
      default ->
          throw new IllegalArgumentException(
              flag
                  + " must be sqlite, postgres"
                  + (memoryAllowed ? ", memory" : "")
                  + " or all,"
                  + " got '"
                  + value
                  + "'\n"
                  + USAGE);
    }
    return out;
  }
}
