package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import dev.keel.tool.UnknownOutcomePolicy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tenant budget shared by many runs, on SQLite and on PostgreSQL ({@code PG_URL}, default the
 * local {@code test} database; a fresh schema, dropped afterwards): fifty concurrent runs of the
 * real engine, each wanting more than its share, never spend more than the budget together; the
 * ledger's spent amount equals the costs the runs recorded; nothing stays reserved.
 */
class CostLedgerIT {
  private static final String PG_BASE =
      Optional.ofNullable(System.getenv("PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
  private static final long LIMIT = 300_000;

  @TempDir Path dir;

  private String url(String db) throws Exception {
    if (db.equals("sqlite")) {
      return "jdbc:sqlite:" + dir.resolve("keel.db");
    }
    String schema = "keel_ledger_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(PG_BASE);
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    return PG_BASE + (PG_BASE.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  private static void drop(String url) throws Exception {
    if (url.startsWith("jdbc:postgresql:")) {
      String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
      try (Connection c = DriverManager.getConnection(PG_BASE);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  private static Tool noop() {
    ToolSpec spec =
        ToolSpec.builder("calc.noop")
            .riskLevel(0)
            .idempotency(Idempotency.NATURAL)
            .unknownOutcome(UnknownOutcomePolicy.FAIL)
            .build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        return new ToolResult.Success(JsonValue.object("ok", true));
      }
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void directReservationsFromFiftyThreadsNeverOverspend(String db) throws Exception {
    String url = url(db);
    try (RunStore store = Stores.open(url, FaultInjector.NONE);
        JdbcCostLedger ledger = new JdbcCostLedger(url, "", "", InstantSource.system())) {
      ledger.setLimit("acme", LIMIT);
      AtomicLong settled = new AtomicLong();
      ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 50; t++) {
        int n = t;
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        start.await();
                        for (int i = 0; ; i++) {
                          String id = "run_" + n + ":" + i;
                          if (!ledger.reserve("acme", "run_" + n, id, 9_000)) {
                            return;
                          }
                          // a replayed reservation is granted again without reserving twice
                          assertThat(ledger.reserve("acme", "run_" + n, id, 9_000)).isTrue();
                          long actual = ThreadLocalRandom.current().nextLong(1_000, 9_001);
                          ledger.settle("acme", id, actual);
                          ledger.settle("acme", id, actual);
                          settled.addAndGet(actual);
                        }
                      } catch (InterruptedException x) {
                        Thread.currentThread().interrupt();
                      } catch (Throwable x) {
                        errors.add(x);
                      }
                    }));
      }
      start.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertThat(errors).isEmpty();
      JdbcCostLedger.Budget b = ledger.budget("acme").orElseThrow();
      assertThat(b.reservedMicros()).isZero();
      assertThat(b.spentMicros()).isEqualTo(settled.get()).isLessThanOrEqualTo(LIMIT);
      assertThat(LIMIT - b.spentMicros()).isLessThan(9_000);
    } finally {
      drop(url);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void fiftyConcurrentRunsOnOneTenantBudgetNeverOverspendIt(String db) throws Exception {
    String url = url(db);
    try (RunStore store = Stores.open(url, FaultInjector.NONE);
        JdbcCostLedger ledger = new JdbcCostLedger(url, "", "", InstantSource.system())) {
      ledger.setLimit("acme", LIMIT);
      AgentSpec agent =
          new AgentSpec(
              "looper", "1", "Loop.", "scripted", List.of("calc.noop"), Budget.DEFAULT, 64);
      // $100 per million tokens: a call of 10 in + 5 out costs 1,500 micro-USD, and reserves its
      // worst case (every byte of input a token, all 64 output tokens) of about 40,000
      Pricing price = new Pricing(100_000_000, 100_000_000, 0);
      Engine engine =
          Engine.of(
                  store,
                  AgentCatalog.of(List.of(agent)),
                  ScriptedModel.of(ScriptedModel.loop("calc.noop", JsonValue.EMPTY_OBJECT, 8)),
                  m -> price,
                  new ToolRegistry(List.of(noop())),
                  ToolPolicy.byRiskLevel(),
                  InstantSource.system(),
                  IdSource.random(),
                  FaultInjector.NONE,
                  EngineConfig.DEFAULT)
              .withCostLedger(ledger);
      Runs runs = new Runs(engine);
      List<RunId> ids = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        ids.add(
            runs.create(Runs.Request.of("acme", "looper", JsonValue.object("goal", "loop " + i)))
                .runId());
      }
      ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
      List<RunWorker> workers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        workers.add(new RunWorker(engine, "w" + w, failures::add));
      }
      try {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        while (!store.rows().stream().allMatch(r -> r.status().terminal())) {
          assertThat(Instant.now()).as("runs did not finish").isBefore(deadline);
          Thread.sleep(100);
        }
      } finally {
        for (RunWorker w : workers) {
          w.close();
        }
      }
      assertThat(failures).isEmpty();
      long recorded = 0;
      int refused = 0;
      for (RunId id : ids) {
        for (EventEnvelope env : store.events(id, 0, Integer.MAX_VALUE)) {
          if (env.event() instanceof RunEvent.ModelResponded r) {
            recorded += r.costMicros();
          }
          if (env.event() instanceof RunEvent.RunTimedOut t
              && t.limit().equals("tenant_cost_usd")) {
            refused++;
          }
        }
      }
      JdbcCostLedger.Budget b = ledger.budget("acme").orElseThrow();
      assertThat(b.reservedMicros()).isZero();
      assertThat(b.spentMicros()).isEqualTo(recorded).isLessThanOrEqualTo(LIMIT);
      // 50 runs × 9 calls × 1,500 = 675,000 wanted: the budget ran out and stopped some runs
      assertThat(refused).isPositive();
      assertThat(store.rows().stream().map(RunRow::status).distinct()).allMatch(s -> s.terminal());
    } finally {
      drop(url);
    }
  }
}
