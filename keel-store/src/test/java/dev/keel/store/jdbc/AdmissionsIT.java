package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.store.Admissions;
import dev.keel.store.Admissions.Admitted;
import dev.keel.store.Admissions.Refused;
import dev.keel.store.Admissions.Verdict;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import dev.keel.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Atomic admission on real SQLite and PostgreSQL: many concurrent admissions through two
 * independent connection sets to one database (two server processes) never exceed the tenant's runs
 * per day nor a key's unfinished runs, and an ended run frees its key's slot.
 */
class AdmissionsIT {
  private static final String PG =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
  private static final int CALLERS = 40;
  private final List<AutoCloseable> open = new ArrayList<>();
  private String schema;
  private String url;

  private String url(String db) throws Exception {
    if (db.equals("sqlite")) {
      Path dir = Files.createTempDirectory("keel-admissions");
      return "jdbc:sqlite:" + dir.resolve("keel.db");
    }
    schema = "keel_adm_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(PG);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return PG + "&currentSchema=" + schema;
  }

  private RunStore store() {
    RunStore s = Stores.open(url, FaultInjector.NONE);
    open.add(s);
    return s;
  }

  /**
   * Admissions on connections of their own, as a separate server process would have. On SQLite the
   * first process's admissions join {@code store}'s group commits (as keel serve's do), the
   * second's use connections of their own, so both ways race each other.
   */
  private Admissions process(RunStore store) {
    SideDb d = SideDb.open(url, "", "", 4);
    if (open.stream().noneMatch(SideDb.class::isInstance)) {
      d.joiningCommitsOf(store);
    }
    open.add(0, d);
    return new JdbcAdmissions(d);
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    if (schema != null) {
      try (Connection c = DriverManager.getConnection(PG);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  private static Instant today() {
    return LocalDate.now(ZoneOffset.UTC).atStartOfDay().toInstant(ZoneOffset.UTC);
  }

  /** {@link #CALLERS} admissions at once, alternating between {@code a} and {@code b}. */
  private static List<Verdict> race(
      Admissions a, Admissions b, String tenant, String key, int perDay, int perKey)
      throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Verdict>> futures = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < CALLERS; i++) {
        Admissions via = i % 2 == 0 ? a : b;
        futures.add(
            ex.submit(
                () -> {
                  go.await();
                  return via.admit(tenant, key, today(), perDay, perKey);
                }));
      }
      go.countDown();
      List<Verdict> out = new ArrayList<>();
      for (Future<Verdict> f : futures) {
        out.add(f.get());
      }
      return out;
    }
  }

  private static List<String> admitted(List<Verdict> verdicts) {
    return verdicts.stream()
        .filter(Admitted.class::isInstance)
        .map(v -> ((Admitted) v).slot())
        .toList();
  }

  private static NewRun newRun(String tenant) {
    RunId id = RunId.of("run_" + UUID.randomUUID().toString().replace("-", ""));
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            tenant,
            "triage",
            "1",
            JsonValue.object("goal", "g"),
            Budget.DEFAULT,
            "api",
            Optional.of("thr_1"),
            Optional.empty(),
            JsonValue.EMPTY_OBJECT);
    EventEnvelope env = new EventEnvelope(id, 1, Instant.now(), 0, created);
    return new NewRun(
        id, tenant, Optional.empty(), new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void concurrentAdmissionsNeverExceedTheTenantsRunsPerDay(String db) throws Exception {
    url = url(db);
    RunStore store = store();
    Admissions a = process(store);
    Admissions b = process(store);
    // Two runs of the day exist already: five more may be admitted.
    store.create(newRun("acme"));
    store.create(newRun("acme"));
    List<Verdict> verdicts = race(a, b, "acme", "key_a", 7, 0);
    List<String> slots = admitted(verdicts);
    assertThat(slots).hasSize(5).doesNotHaveDuplicates();
    assertThat(verdicts)
        .filteredOn(Refused.class::isInstance)
        .hasSize(CALLERS - 5)
        .allSatisfy(
            v -> assertThat(((Refused) v).limit()).isEqualTo(Admissions.Limit.RUNS_PER_DAY));
    // Binding the slots to the runs they created keeps the count at the limit.
    for (String slot : slots) {
      NewRun r = newRun("acme");
      store.create(r);
      (slots.indexOf(slot) % 2 == 0 ? a : b).bind(slot, r.runId());
    }
    assertThat(a.admit("acme", "key_a", today(), 7, 0)).isInstanceOf(Refused.class);
    assertThat(b.admit("globex", "key_g", today(), 7, 0))
        .as("another tenant has its own day")
        .isInstanceOf(Admitted.class);
    // A released slot (its create failed) is given back.
    Admitted g = (Admitted) a.admit("globex", "key_g", today(), 2, 0);
    assertThat(b.admit("globex", "key_g", today(), 2, 0)).isInstanceOf(Refused.class);
    b.release(g.slot());
    assertThat(b.admit("globex", "key_g", today(), 2, 0)).isInstanceOf(Admitted.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void concurrentAdmissionsNeverExceedAKeysUnfinishedRuns(String db) throws Exception {
    url = url(db);
    RunStore store = store();
    Admissions a = process(store);
    Admissions b = process(store);
    List<Verdict> verdicts = race(a, b, "acme", "key_a", 0, 3);
    List<String> slots = admitted(verdicts);
    assertThat(slots).hasSize(3);
    assertThat(verdicts)
        .filteredOn(Refused.class::isInstance)
        .hasSize(CALLERS - 3)
        .allSatisfy(
            v -> assertThat(((Refused) v).limit()).isEqualTo(Admissions.Limit.UNFINISHED_PER_KEY));
    assertThat(a.admit("acme", "key_b", today(), 0, 3))
        .as("another key of the tenant is not limited by this key's runs")
        .isInstanceOf(Admitted.class);
    List<RunId> runs = new ArrayList<>();
    for (String slot : slots) {
      NewRun r = newRun("acme");
      store.create(r);
      a.bind(slot, r.runId());
      runs.add(r.runId());
    }
    assertThat(b.admit("acme", "key_a", today(), 0, 3)).isInstanceOf(Refused.class);
    // One run ends: exactly one more is admitted, even when many ask at once.
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement ps = c.prepareStatement("UPDATE runs SET status = ? WHERE id = ?")) {
      ps.setString(1, "completed");
      ps.setString(2, runs.getFirst().value());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    assertThat(admitted(race(a, b, "acme", "key_a", 0, 3))).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void pruningDeletesOnlySlotsThatCanNoLongerCount(String db) throws Exception {
    url = url(db);
    RunStore store = store();
    AtomicLong ms = new AtomicLong(System.currentTimeMillis());
    SideDb d = SideDb.open(url, "", "", 2).joiningCommitsOf(store);
    open.add(0, d);
    Admissions a = new JdbcAdmissions(d, () -> Instant.ofEpochMilli(ms.get()));
    // Admitted, then its server died before creating the run: never bound.
    String abandoned = ((Admitted) a.admit("acme", "key_a", today(), 0, 10)).slot();
    ms.addAndGet(Duration.ofMinutes(3).toMillis());
    String ended = ((Admitted) a.admit("acme", "key_a", today(), 0, 10)).slot();
    NewRun first = newRun("acme");
    store.create(first);
    a.bind(ended, first.runId());
    String running = ((Admitted) a.admit("acme", "key_a", today(), 0, 10)).slot();
    NewRun second = newRun("acme");
    store.create(second);
    a.bind(running, second.runId());
    String inFlight = ((Admitted) a.admit("acme", "key_a", today(), 0, 10)).slot();
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement ps = c.prepareStatement("UPDATE runs SET status = ? WHERE id = ?")) {
      ps.setString(1, "completed");
      ps.setString(2, first.runId().value());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    long dayBefore = ((Refused) a.admit("acme", "key_a", today(), 1, 0)).used();

    assertThat(a.prune()).isEqualTo(2);

    assertThat(slots()).containsExactlyInAnyOrder(running, inFlight).doesNotContain(abandoned);
    assertThat(((Refused) a.admit("acme", "key_a", today(), 1, 0)).used())
        .as("the day's count is what it was (two runs and one create in flight)")
        .isEqualTo(dayBefore)
        .isEqualTo(3);
    // The key still has two unfinished runs: one more fits under a limit of three, then none.
    assertThat(a.admit("acme", "key_a", today(), 0, 3)).isInstanceOf(Admitted.class);
    assertThat(a.admit("acme", "key_a", today(), 0, 3)).isInstanceOf(Refused.class);
    assertThat(a.prune()).as("nothing more can go").isZero();
  }

  private List<String> slots() throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT slot FROM run_admissions")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
