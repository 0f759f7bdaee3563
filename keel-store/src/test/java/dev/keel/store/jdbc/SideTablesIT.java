package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.IdempotencyStore.Begin;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import dev.keel.store.RunQuery;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tables beside the run store on real SQLite and PostgreSQL ({@code PG_URL}, default the local
 * {@code test} database; a fresh schema per test): durable Idempotency-Key answers and the keyset
 * run list.
 */
class SideTablesIT {
  private static final String PG =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
  private final List<AutoCloseable> open = new ArrayList<>();
  private String schema;

  private String url(String db) throws Exception {
    if (db.equals("sqlite")) {
      Path dir = Files.createTempDirectory("keel-side");
      return "jdbc:sqlite:" + dir.resolve("keel.db");
    }
    schema = "keel_side_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(PG);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return PG + "&currentSchema=" + schema;
  }

  private RunStore store(String url) {
    RunStore s = Stores.open(url, FaultInjector.NONE);
    open.add(s);
    return s;
  }

  private SideDb side(String url) {
    SideDb d = SideDb.open(url, "", "", 4);
    open.add(0, d);
    return d;
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

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void idempotencyAnswersReplayMismatchExpireAndSurviveReopening(String db) throws Exception {
    String url = url(db);
    store(url);
    Duration ttl = Duration.ofHours(24);
    Duration lock = Duration.ofSeconds(30);
    Instant t0 = Instant.parse("2026-11-22T06:00:00Z");
    JdbcIdempotencyStore s = new JdbcIdempotencyStore(side(url));
    assertThat(s.begin("acme", "POST /v1/runs", "k1", "h1", t0, ttl, lock))
        .isInstanceOf(Begin.Started.class);
    assertThat(s.begin("acme", "POST /v1/runs", "k1", "h1", t0, ttl, lock))
        .isInstanceOf(Begin.InFlight.class);
    assertThat(s.begin("acme", "POST /v1/runs", "k1", "h2", t0, ttl, lock))
        .isInstanceOf(Begin.Mismatch.class);
    assertThat(s.begin("globex", "POST /v1/runs", "k1", "h2", t0, ttl, lock))
        .as("another tenant's key is independent")
        .isInstanceOf(Begin.Started.class);
    s.complete("acme", "POST /v1/runs", "k1", 201, "{\"id\":\"run_1\"}");

    // A new connection (a restarted server) sees the stored answer.
    JdbcIdempotencyStore again = new JdbcIdempotencyStore(side(url));
    assertThat(again.begin("acme", "POST /v1/runs", "k1", "h1", t0.plusSeconds(60), ttl, lock))
        .isEqualTo(new Begin.Replay(201, "{\"id\":\"run_1\"}"));
    assertThat(again.begin("acme", "POST /v1/runs", "k1", "h2", t0.plusSeconds(60), ttl, lock))
        .isInstanceOf(Begin.Mismatch.class);
    // After 24 h the key is forgotten: another body starts afresh.
    assertThat(again.begin("acme", "POST /v1/runs", "k1", "h2", t0.plus(ttl), ttl, lock))
        .isInstanceOf(Begin.Started.class);

    // An owner that died in flight is taken over once its lock passes, by one caller only.
    assertThat(s.begin("acme", "POST /x", "k2", "h", t0, ttl, lock))
        .isInstanceOf(Begin.Started.class);
    assertThat(s.begin("acme", "POST /x", "k2", "h", t0.plusSeconds(29), ttl, lock))
        .isInstanceOf(Begin.InFlight.class);
    assertThat(s.begin("acme", "POST /x", "k2", "h", t0.plusSeconds(31), ttl, lock))
        .isInstanceOf(Begin.Started.class);
    assertThat(s.begin("acme", "POST /x", "k2", "h", t0.plusSeconds(31), ttl, lock))
        .isInstanceOf(Begin.InFlight.class);
    // A released entry (a 5xx) runs again.
    s.release("acme", "POST /x", "k2");
    assertThat(s.begin("acme", "POST /x", "k2", "h", t0.plusSeconds(32), ttl, lock))
        .isInstanceOf(Begin.Started.class);
    assertThat(s.purge(t0.plusSeconds(1))).as("only globex k1 is that old").isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void racingCallersWithOneKeyStartOnce(String db) throws Exception {
    String url = url(db);
    store(url);
    JdbcIdempotencyStore s = new JdbcIdempotencyStore(side(url));
    Instant now = Instant.now();
    AtomicInteger started = new AtomicInteger();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        fs.add(
            ex.submit(
                () -> {
                  Begin b =
                      s.begin(
                          "acme",
                          "POST /v1/runs",
                          "race",
                          "h",
                          now,
                          Duration.ofHours(24),
                          Duration.ofSeconds(30));
                  if (b instanceof Begin.Started) {
                    started.incrementAndGet();
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    }
    assertThat(started.get()).isEqualTo(1);
  }

  private static NewRun newRun(String tenant, String agent, String thread) {
    RunId id = RunId.of("run_" + UUID.randomUUID().toString().replace("-", ""));
    RunEvent.RunCreated created =
        new RunEvent.RunCreated(
            tenant,
            agent,
            "1",
            JsonValue.object("goal", "g"),
            Budget.DEFAULT,
            "api",
            Optional.of(thread),
            Optional.empty(),
            JsonValue.EMPTY_OBJECT);
    EventEnvelope env = new EventEnvelope(id, 1, Instant.now(), 0, created);
    return new NewRun(
        id, tenant, Optional.empty(), new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void thousandsOfRunsOfTwoTenantsPageWithoutGapsOrDuplicates(String db) throws Exception {
    String url = url(db);
    RunStore store = store(url);
    Set<RunId> acme = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<RunId> acmeTriage = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<RunId> acmeThread7 = java.util.concurrent.ConcurrentHashMap.newKeySet();
    try (ExecutorService ex = Executors.newFixedThreadPool(8)) {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        int n = i;
        fs.add(
            ex.submit(
                () -> {
                  String tenant = n % 3 == 2 ? "globex" : "acme";
                  String agent = n % 2 == 0 ? "triage" : "chatty";
                  String thread = "thr_" + (n % 10);
                  NewRun r = newRun(tenant, agent, thread);
                  store.create(r);
                  if (tenant.equals("acme")) {
                    acme.add(r.runId());
                    if (agent.equals("triage")) {
                      acmeTriage.add(r.runId());
                    }
                    if (thread.equals("thr_7")) {
                      acmeThread7.add(r.runId());
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    }
    JdbcRunQuery q = new JdbcRunQuery(side(url));
    List<RunRow> all = pageAll(q, RunQuery.Filter.tenant("acme"), 97);
    assertThat(all).hasSize(acme.size()).hasSize(2000);
    assertThat(all.stream().map(RunRow::runId).collect(java.util.stream.Collectors.toSet()))
        .isEqualTo(acme);
    for (int i = 1; i < all.size(); i++) {
      RunRow a = all.get(i - 1);
      RunRow b = all.get(i);
      int c = a.createdAt().compareTo(b.createdAt());
      assertThat(c > 0 || (c == 0 && a.runId().compareTo(b.runId()) > 0))
          .as("strictly newest first at %d", i)
          .isTrue();
      assertThat(b.tenant()).isEqualTo("acme");
    }
    Set<RunId> triage = ids(pageAll(q, filter(Optional.empty(), "triage", null), 50));
    assertThat(triage).isEqualTo(acmeTriage);
    Set<RunId> thread = ids(pageAll(q, filter(Optional.empty(), null, "thr_7"), 13));
    assertThat(thread).isEqualTo(acmeThread7);
    assertThat(pageAll(q, filter(Optional.of(RunStatus.QUEUED), null, null), 100)).hasSize(2000);
    assertThat(pageAll(q, filter(Optional.of(RunStatus.COMPLETED), null, null), 100)).isEmpty();
    assertThat(pageAll(q, RunQuery.Filter.tenant("globex"), 1000)).hasSize(1000);
    assertThat(pageAll(q, RunQuery.Filter.tenant("nobody"), 10)).isEmpty();
  }

  private static RunQuery.Filter filter(Optional<RunStatus> s, String agent, String thread) {
    return new RunQuery.Filter("acme", s, Optional.ofNullable(agent), Optional.ofNullable(thread));
  }

  private static Set<RunId> ids(List<RunRow> rows) {
    Set<RunId> out = new HashSet<>();
    for (RunRow r : rows) {
      assertThat(out.add(r.runId())).as("duplicate %s", r.runId()).isTrue();
    }
    return out;
  }

  private static List<RunRow> pageAll(RunQuery q, RunQuery.Filter f, int limit) {
    List<RunRow> out = new ArrayList<>();
    Optional<RunQuery.Position> after = Optional.empty();
    do {
      RunQuery.Page p = q.list(f, after, limit);
      assertThat(p.rows().size()).isLessThanOrEqualTo(limit);
      out.addAll(p.rows());
      after = p.next();
    } while (after.isPresent());
    ids(out);
    return out;
  }
}
