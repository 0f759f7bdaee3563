package dev.keel.app;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.Pricing;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A parent waiting for a sub-run resumes as soon as the child ends, not at its poll timer (decision
 * 0025): real workers on a real SQLite file and on PostgreSQL (LISTEN/NOTIFY). The child takes a
 * while, so the parent is asleep on its timer (10 s, {@code AgentLoop.SUBRUN_POLL}) when the child
 * ends; the parent's {@code subrun.finished} must follow the child's {@code run.completed} within 1
 * s (the old poll was 2 s).
 */
class SubrunWakeIT {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void theParentResumesWithinMillisecondsOfItsChildsEnd(String db) throws Exception {
    String url = db.equals("sqlite") ? "jdbc:sqlite:" + tmp.resolve("keel.db") : StoresIT.pgUrl();
    AgentSpec parent =
        AgentSpec.builder("boss")
            .instructions("You delegate.", "1")
            .capabilities(Set.of("spawn"))
            .build();
    AgentSpec child =
        AgentSpec.builder("helper")
            .instructions("You look things up.", "1")
            .capabilities(Set.of("finish"))
            .build();
    ScriptedModel model =
        ScriptedModel.of(
            (req, step) -> {
              String sys = ((Message.System) req.messages().getFirst()).text();
              if (sys.startsWith("You look things up.")) {
                try {
                  Thread.sleep(1500); // the parent is asleep on its timer by now
                } catch (InterruptedException x) {
                  Thread.currentThread().interrupt();
                }
                return text("found A-1");
              }
              return step == 1
                  ? calls(
                      call(
                          "s",
                          dev.keel.run.RunState.SPAWN_TOOL,
                          JsonValue.object("agent", "helper", "goal", "find A-1")))
                  : text("done");
            });
    try (RunStore store = Stores.open(url, FaultInjector.NONE)) {
      Engine e =
          Engine.of(
              store,
              AgentCatalog.of(List.of(parent, child)),
              model,
              m -> Pricing.FREE,
              new ToolRegistry(List.of()),
              ToolPolicy.byRiskLevel(),
              InstantSource.system(),
              IdSource.random(),
              FaultInjector.NONE,
              EngineConfig.DEFAULT);
      Runs runs = new Runs(e);
      RunId id =
          runs.create(Runs.Request.of("acme", "boss", JsonValue.object("goal", "g"))).runId();
      RunWorker w = new RunWorker(e, "w1", Throwable::printStackTrace);
      try {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!runs.state(id).status().terminal() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      } finally {
        w.close();
      }
      RunState done = runs.state(id);
      assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
      List<EventEnvelope> parentEvents = store.events(id, 0, 10_000);
      EventEnvelope finished =
          parentEvents.stream()
              .filter(x -> x.event() instanceof RunEvent.SubrunFinished)
              .findFirst()
              .orElseThrow();
      RunId childId = RunId.of(((RunEvent.SubrunFinished) finished.event()).childRunId());
      EventEnvelope childEnd = store.events(childId, 0, 10_000).getLast();
      assertThat(childEnd.event()).isInstanceOf(RunEvent.RunCompleted.class);
      // the parent really was asleep waiting when the child ended
      assertThat(parentEvents)
          .anyMatch(
              x -> x.event() instanceof RunEvent.RunWaiting && x.at().isBefore(childEnd.at()));
      Duration lag = Duration.between(childEnd.at(), finished.at());
      System.out.println("subrun wake lag on " + db + ": " + lag.toMillis() + " ms");
      assertThat(lag).isLessThan(Duration.ofSeconds(1));
    } finally {
      if (db.equals("postgresql")) {
        String schema = url.replaceAll(".*currentSchema=", "");
        try (Connection c = DriverManager.getConnection(url);
            Statement s = c.createStatement()) {
          s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
      }
    }
  }
}
