package dev.keel.engine;

import dev.keel.run.RunId;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A worker: claims runnable runs and advances each on its own virtual thread, bounded by a
 * semaphore; one heartbeat renews every lease it holds in one statement.
 *
 * <p>Implementation notes. A waiting run holds no thread, lease or heap here: it is released to the
 * store with a wake-up time and claimed again when a signal or its timer makes it ready. {@link
 * #drain} stops claiming and asks every execution to hand its run back at the next step boundary,
 * so a deploy or scale-in loses nothing and another worker continues at once.
 */
public final class RunWorker implements AutoCloseable {
  private final Engine engine;
  private final String workerId;
  private final Semaphore slots;
  private final Map<RunId, RunExecution> active = new ConcurrentHashMap<>();
  private final Consumer<Throwable> onFailure;
  private final AtomicLong completedExecutions = new AtomicLong();
  private volatile boolean running = true;
  private volatile boolean claiming = true;
  private final Thread claimer;
  private final Thread heartbeat;

  /** Starts a worker with id {@code workerId}; {@code onFailure} hears unexpected errors. */
  public RunWorker(Engine engine, String workerId, Consumer<Throwable> onFailure) {
    this.engine = engine;
    this.workerId = workerId;
    this.onFailure = onFailure;
    this.slots = new Semaphore(engine.config().maxConcurrentRuns());
    this.claimer = Thread.ofVirtual().name("keel-claim-" + workerId).start(this::claimLoop);
    this.heartbeat =
        Thread.ofVirtual().name("keel-heartbeat-" + workerId).start(this::heartbeatLoop);
  }

  /** This worker's id, unique per process incarnation. */
  public String workerId() {
    return workerId;
  }

  /** How many runs this worker is advancing now. */
  public int activeRuns() {
    return active.size();
  }

  /** How many executions have finished (released, ended or lost their run). */
  public long completedExecutions() {
    return completedExecutions.get();
  }

  private void claimLoop() {
    Duration ttl = engine.config().leaseTime();
    while (claiming) {
      try {
        int free = slots.availablePermits();
        if (free == 0) {
          slots.acquire();
          slots.release();
          continue;
        }
        long before = engine.ticker().getAsLong();
        List<Lease> leases = engine.store().claim(workerId, ttl, Math.min(free, 64));
        for (Lease lease : leases) {
          slots.acquire();
          Thread.ofVirtual().name("keel-run-" + lease.runId()).start(() -> execute(lease, before));
        }
        if (leases.isEmpty()) {
          engine.store().awaitWork(engine.config().idlePoll());
        }
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException x) {
        onFailure.accept(x);
        sleepQuietly(engine.config().idlePoll());
      }
    }
  }

  private void execute(Lease lease, long requestedAtNanos) {
    RunExecution exec = null;
    try {
      exec = RunExecution.load(engine, lease, requestedAtNanos);
      active.put(lease.runId(), exec);
      if (!claiming) {
        exec.drain();
      }
      exec.run();
    } catch (LeaseLostException x) {
      // Another worker owns the run now; this one stops before any new effect.
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException x) {
      onFailure.accept(x);
      if (exec != null) {
        exec.handBack();
      }
    } finally {
      if (exec != null) {
        active.remove(lease.runId(), exec);
      }
      completedExecutions.incrementAndGet();
      slots.release();
    }
  }

  private void heartbeatLoop() {
    Duration ttl = engine.config().leaseTime();
    long periodMillis = Math.max(10, ttl.toMillis() / 3);
    while (running) {
      try {
        Thread.sleep(periodMillis);
        if (active.isEmpty()) {
          continue;
        }
        long before = engine.ticker().getAsLong();
        Map<RunId, Lease> held = new java.util.HashMap<>();
        for (Lease l : engine.store().renew(workerId, ttl)) {
          held.put(l.runId(), l);
        }
        // Only leases the store returned are refreshed. A lease missing from the answer is not
        // declared lost here: its claim may have committed after this statement read the rows.
        // An execution whose lease really lapsed learns it from its own deadline and the store,
        // before its next effect (ensureLease) or at its next fenced write.
        for (RunExecution exec : active.values()) {
          Lease l = held.get(exec.runId());
          if (l != null) {
            exec.renewed(l, before);
            if (l.signalSeq() > exec.state().signalsConsumed()) {
              exec.cancelIfSignalled();
            }
          }
        }
      } catch (InterruptedException x) {
        return;
      } catch (RuntimeException x) {
        onFailure.accept(x);
      }
    }
  }

  /**
   * Stops claiming and hands every run back at its next step boundary; waits up to {@code grace}
   * for executions to finish. Returns true if all finished in time.
   */
  public boolean drain(Duration grace) throws InterruptedException {
    claiming = false;
    claimer.interrupt();
    active.values().forEach(RunExecution::drain);
    int max = engine.config().maxConcurrentRuns();
    boolean done = slots.tryAcquire(max, grace.toMillis(), TimeUnit.MILLISECONDS);
    if (done) {
      slots.release(max);
    }
    return done;
  }

  @Override
  public void close() {
    claiming = false;
    running = false;
    claimer.interrupt();
    heartbeat.interrupt();
    try {
      claimer.join(Duration.ofSeconds(5));
      heartbeat.join(Duration.ofSeconds(5));
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    }
  }
}
