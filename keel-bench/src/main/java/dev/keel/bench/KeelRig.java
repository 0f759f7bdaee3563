package dev.keel.bench;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.FaultInjector;
import dev.keel.store.RunStore;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Keel wired for the benchmark: one engine and one worker over an observed store, a scripted model
 * that calls the no-op tool a fixed number of times, and agents for each run length.
 *
 * <p>An agent {@code bench-noop-N} uses the model {@code noop-N}; the script reads N from the model
 * name and runs {@link ScriptedModel#loop}: N steps that each call {@link BenchTools#NOOP}, then a
 * text answer. The agent {@code bench-gated} calls {@link BenchTools#GATED} once and parks.
 */
final class KeelRig implements AutoCloseable {
  /** The agent whose runs park for a person's approval. */
  static final String GATED_AGENT = "bench-gated";

  private static final String GATED_MODEL = "gated";
  private static final String TENANT = "bench";
  private static final Budget BUDGET =
      new Budget(1_000, 1_000, 1_000, 1_000_000, Duration.ofHours(2));
  private static final int CREATE_CONCURRENCY = 256;

  private final ObservedRunStore store;
  private final BenchTools.Noop noop = new BenchTools.Noop();
  private final Runs runs;
  private final RunWorker worker;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  /** Wires Keel over {@code raw} with agents for each of {@code runLengths}. */
  KeelRig(RunStore raw, List<Integer> runLengths, EngineConfig config) {
    this.store = new ObservedRunStore(raw);
    List<AgentSpec> agents = new ArrayList<>();
    for (int n : runLengths) {
      agents.add(
          new AgentSpec(agentFor(n), "1", "", "noop-" + n, List.of(BenchTools.NOOP), BUDGET, 64));
    }
    agents.add(
        new AgentSpec(GATED_AGENT, "1", "", GATED_MODEL, List.of(BenchTools.GATED), BUDGET, 64));
    Engine engine =
        Engine.of(
            store,
            AgentCatalog.of(agents),
            ScriptedModel.of(KeelRig::reply),
            model -> Pricing.FREE,
            new ToolRegistry(List.of(noop, new BenchTools.Gated())),
            ToolPolicy.byRiskLevel(),
            InstantSource.system(),
            IdSource.random(),
            FaultInjector.NONE,
            config);
    this.runs = new Runs(engine);
    this.worker =
        new RunWorker(
            engine,
            "bench-" + ProcessHandle.current().pid(),
            t -> {
              failure.compareAndSet(null, t);
              System.err.println("worker failure: " + t);
            });
  }

  /** The agent that runs {@code steps} no-op steps. */
  static String agentFor(int steps) {
    return "bench-noop-" + steps;
  }

  private static ModelResponse reply(ModelRequest request, int step) {
    if (request.model().equals(GATED_MODEL)) {
      return step == 1
          ? ScriptedModel.calls(
              ScriptedModel.call("c1", BenchTools.GATED, JsonValue.object("to", "someone")))
          : ScriptedModel.text("sent");
    }
    int n = Integer.parseInt(request.model().substring("noop-".length()));
    return ScriptedModel.loop(BenchTools.NOOP, JsonValue.EMPTY_OBJECT, n).reply(request, step);
  }

  /** The observed store. */
  ObservedRunStore store() {
    return store;
  }

  /** The worker. */
  RunWorker worker() {
    return worker;
  }

  /** How many no-op tool calls (benchmark steps) have run. */
  long toolCalls() {
    return noop.calls();
  }

  /** Creates one run of {@code agent}. */
  void create(String agent) {
    runs.create(Runs.Request.of(TENANT, agent, JsonValue.object("goal", "benchmark")));
  }

  /**
   * What one batch cost.
   *
   * @param nanos from the first create to the last run's end
   * @param steps steps of the batch (runs times steps per run)
   * @param repeatedCalls tool calls beyond one per step: calls made again after a run changed hands
   *     (a lease that lapsed); legal for a keyed tool, but a sign of trouble
   * @param counts what the engine asked of the store
   */
  record Batch(long nanos, long steps, long repeatedCalls, ObservedRunStore.Counts counts) {
    /** Steps per second. */
    double stepsPerSecond() {
      return steps / (nanos / 1e9);
    }

    /** Milliseconds per step. */
    double millisPerStep() {
      return nanos / 1e6 / steps;
    }
  }

  /**
   * Creates {@code n} runs of {@code steps} steps together (on virtual threads) and waits until all
   * have ended; the time includes the creates.
   */
  Batch runBatch(int n, int steps, Duration max) throws InterruptedException {
    ObservedRunStore.Counts before = store.counts();
    long callsBefore = noop.calls();
    long failedBefore = store.notCompleted();
    long start = System.nanoTime();
    createAll(n, agentFor(steps));
    if (!store.awaitEnded(n, max)) {
      throw new IllegalStateException(
          n + " runs of " + steps + " steps did not all end within " + max + "; " + diagnosis());
    }
    long nanos = System.nanoTime() - start;
    long calls = noop.calls() - callsBefore;
    long expected = (long) n * steps;
    if (store.notCompleted() != failedBefore || calls < expected) {
      throw new IllegalStateException(
          "a batch of "
              + n
              + " x "
              + steps
              + " made "
              + calls
              + " tool calls and "
              + (store.notCompleted() - failedBefore)
              + " runs did not complete; "
              + diagnosis());
    }
    if (calls > expected) {
      System.out.printf(
          "  note: %,d tool calls were made again (runs changed hands); %s%n",
          calls - expected, diagnosis());
    }
    return new Batch(nanos, expected, calls - expected, store.counts().minus(before));
  }

  /** Creates {@code n} runs of {@code agent} on virtual threads, at most 256 at a time. */
  void createAll(int n, String agent) throws InterruptedException {
    if (n == 1) {
      create(agent);
      return;
    }
    Semaphore bound = new Semaphore(CREATE_CONCURRENCY);
    AtomicReference<Throwable> createFailure = new AtomicReference<>();
    try (ExecutorService creators = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        bound.acquire();
        creators.execute(
            () -> {
              try {
                create(agent);
              } catch (RuntimeException e) {
                createFailure.compareAndSet(null, e);
              } finally {
                bound.release();
              }
            });
      }
    }
    Throwable t = createFailure.get();
    if (t != null) {
      throw new IllegalStateException("creating runs failed: " + t, t);
    }
  }

  private String diagnosis() {
    Throwable t = failure.get();
    return "active runs "
        + worker.activeRuns()
        + (t == null ? "" : ", first worker failure: " + t)
        + ", store counts "
        + store.counts();
  }

  @Override
  public void close() {
    worker.close();
    store.close();
  }
}
