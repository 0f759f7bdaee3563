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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Appends per second through the group committer, one run alone and many runs at once. Not part of
 * the test run (the name does not end in Test); run it with {@code -Dtest=StoreThroughputBench}.
 */
class StoreThroughputBench {
  private static final String PG =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  @Test
  void sqlite() throws Exception {
    Path dir = Files.createTempDirectory("keel-bench");
    try (RunStore s =
        new SqliteRunStore(
            SqliteConfig.of("jdbc:sqlite:" + dir.resolve("bench.db")), FaultInjector.NONE)) {
      run("sqlite FULL", s);
    }
    String raw = "jdbc:sqlite:" + dir.resolve("raw.db");
    try (Connection c = DriverManager.getConnection(raw);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=FULL");
      st.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      c.setAutoCommit(false);
      long[] nanos = new long[1000];
      for (int i = 0; i < 1000; i++) {
        long t0 = System.nanoTime();
        try (var ps = c.prepareStatement("INSERT INTO t (v) VALUES (?)")) {
          ps.setString(1, "x" + i);
          ps.executeUpdate();
        }
        c.commit();
        nanos[i] = System.nanoTime() - t0;
      }
      Arrays.sort(nanos);
      System.out.printf(
          "raw sqlite insert+commit: p50 %.3f ms p99 %.3f ms%n",
          nanos[500] / 1e6, nanos[990] / 1e6);
    }
  }

  @Test
  void postgres() throws Exception {
    String schema = "keel_bench_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = DriverManager.getConnection(PG);
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    try (RunStore s =
        new PostgresRunStore(
            PostgresConfig.of(PG + (PG.contains("?") ? "&" : "?") + "currentSchema=" + schema),
            FaultInjector.NONE)) {
      run("postgres", s);
    } finally {
      try (Connection c = DriverManager.getConnection(PG);
          Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  /**
   * The same on PostgreSQL with the store working as a keel_app login under row-level security
   * (decision 0043): every transaction first sets its tenant scope, one more round trip.
   */
  @Test
  void postgresAppRole() throws Exception {
    String schema = "keel_bench_" + UUID.randomUUID().toString().substring(0, 8);
    String login = "keel_bench_app_" + ProcessHandle.current().pid();
    String database = PG.split("\\?", 2)[0];
    String owner = PG.contains("user=") ? PG.replaceAll(".*[?&]user=([^&]*).*", "$1") : "postgres";
    try (Connection c = DriverManager.getConnection(PG);
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    String url = database + "?currentSchema=" + schema;
    StoreMigrations.migrate(url, owner, "");
    try (Connection c = DriverManager.getConnection(PG);
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE " + login + " LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE keel_app");
    }
    try (RunStore s =
        new PostgresRunStore(
            PostgresConfig.of(url).withCredentials(owner, "").withApplicationRole(login, ""),
            FaultInjector.NONE)) {
      run("postgres as keel_app (RLS)", s);
    } finally {
      try (Connection c = DriverManager.getConnection(PG);
          Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA " + schema + " CASCADE");
        st.execute("DROP ROLE " + login);
      }
    }
  }

  private static void run(String name, RunStore store) throws Exception {
    one(name, store, 300); // warm-up
    one(name, store, 1000);
    many(name, store, 64, 50); // warm-up
    many(name, store, 64, 200);
    many(name, store, 256, 50);
  }

  private static void one(String name, RunStore store, int appends) {
    Driver d = Driver.start(store, "solo");
    long[] nanos = new long[appends];
    long t0 = System.nanoTime();
    for (int i = 0; i < appends; i++) {
      long s = System.nanoTime();
      d.step(i);
      nanos[i] = System.nanoTime() - s;
    }
    long total = System.nanoTime() - t0;
    Arrays.sort(nanos);
    System.out.printf(
        "%s one run: %d appends, %.0f appends/s, p50 %.3f ms, p99 %.3f ms%n",
        name,
        appends,
        appends / (total / 1e9),
        nanos[appends / 2] / 1e6,
        nanos[appends * 99 / 100] / 1e6);
  }

  private static void many(String name, RunStore store, int runs, int appendsEach)
      throws Exception {
    List<Driver> drivers = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      drivers.add(Driver.start(store, "w" + i));
    }
    long t0 = System.nanoTime();
    List<Future<?>> fs = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Driver d : drivers) {
        fs.add(
            ex.submit(
                () -> {
                  for (int i = 0; i < appendsEach; i++) {
                    d.step(i);
                  }
                }));
      }
    }
    for (Future<?> f : fs) {
      f.get();
    }
    long total = System.nanoTime() - t0;
    System.out.printf(
        "%s %d runs at once: %d appends, %.0f appends/s%n",
        name, runs, runs * appendsEach, runs * appendsEach / (total / 1e9));
    long[] st =
        store instanceof SqliteRunStore s
            ? s.commitStats()
            : store instanceof PostgresRunStore p ? p.commitStats() : null;
    if (st != null) {
      System.out.printf(
          "  so far: %d batches, %.1f writes/batch, commit %.2f ms/batch, batch %.2f ms%n",
          st[0], st[1] / (double) st[0], st[2] / 1e6 / st[0], st[3] / 1e6 / st[0]);
    }
  }

  /** One run and its writer. */
  private static final class Driver {
    private static final Map<String, Integer> SEQ = new HashMap<>();
    final RunStore store;
    Lease lease;
    RunState state;

    Driver(RunStore store, Lease lease, RunState state) {
      this.store = store;
      this.lease = lease;
      this.state = state;
    }

    static synchronized Driver start(RunStore store, String worker) {
      RunId id = RunId.of("run_" + UUID.randomUUID().toString().replace("-", ""));
      EventEnvelope env =
          new EventEnvelope(
              id,
              1,
              Instant.now(),
              0,
              new RunEvent.RunCreated(
                  "bench",
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
              "bench",
              Optional.empty(),
              new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env))));
      Lease lease = null;
      while (lease == null) {
        lease =
            store.claim(worker, Duration.ofMinutes(5), 1000).stream()
                .filter(l -> l.runId().equals(id))
                .findFirst()
                .orElse(null);
      }
      SEQ.merge(worker, 1, Integer::sum);
      Driver d = new Driver(store, lease, RunState.initial(env));
      d.append(new RunEvent.RunStarted());
      return d;
    }

    void step(int i) {
      append(new RunEvent.DecisionRecorded(1, "act", JsonValue.object("i", (long) i)));
    }

    void append(RunEvent e) {
      EventEnvelope env =
          new EventEnvelope(lease.runId(), state.lastSeq() + 1, Instant.now(), lease.epoch(), e);
      String hash = Hashes.chain(state.chainHash(), env);
      RunState after = state.apply(env);
      lease =
          store.append(
              new Append(
                  lease,
                  state.lastSeq(),
                  List.of(new RecordedEvent(env, hash)),
                  after,
                  Optional.empty(),
                  Disposition.KEEP,
                  Duration.ofMinutes(5)));
      state = after;
    }
  }
}
