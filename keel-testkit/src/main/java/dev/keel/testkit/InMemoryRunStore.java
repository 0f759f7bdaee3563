package dev.keel.testkit;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.Append;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Checkpoint;
import dev.keel.store.CreateResult;
import dev.keel.store.Disposition;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.LedgerEntry;
import dev.keel.store.Loaded;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.Signal;
import dev.keel.store.SignalPayload;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link RunStore} in memory with the same semantics as the SQL stores: one lock stands for a
 * transaction, the injected clock is the store's clock. It passes the store contract suite and is
 * the substrate of the seeded simulation.
 */
public final class InMemoryRunStore implements RunStore {
  private final InstantSource clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final Map<RunId, Row> runs = new LinkedHashMap<>();
  private final Map<String, RunId> keys = new HashMap<>();
  private final Map<String, ApprovalRecord> approvals = new LinkedHashMap<>();
  private final Map<String, LedgerEntry> ledger = new LinkedHashMap<>();

  /** Ledger keys by run and call, so settling a call touches its own entries, not the ledger. */
  private final Map<String, Set<String>> ledgerKeysByCall = new HashMap<>();

  /** Creates an empty store whose clock is {@code clock}. */
  public InMemoryRunStore(InstantSource clock) {
    this.clock = clock;
  }

  private static final class Row {
    final RunId id;
    final String tenant;
    final String agent;
    final Optional<String> key;
    final Instant createdAt;
    RunStatus status = RunStatus.QUEUED;
    Instant updatedAt;
    long signalSeq;
    Optional<String> owner = Optional.empty();
    long epoch;
    Optional<Instant> expires = Optional.empty();
    Optional<Instant> readyAt;
    final List<RecordedEvent> events = new ArrayList<>();
    final List<Checkpoint> checkpoints = new ArrayList<>();
    final List<Signal> signals = new ArrayList<>();

    Row(NewRun n, Instant now) {
      id = n.runId();
      tenant = n.tenant();
      agent = ((RunEvent.RunCreated) n.created().envelope().event()).agentName();
      key = n.idempotencyKey();
      createdAt = now;
      updatedAt = now;
      readyAt = Optional.of(now);
      events.add(n.created());
    }

    long lastSeq() {
      return events.size();
    }

    boolean leased(Instant now) {
      return owner.isPresent() && expires.isPresent() && expires.get().isAfter(now);
    }

    RunRow row() {
      return new RunRow(
          id, tenant, agent, status, lastSeq(), signalSeq, owner, epoch, expires, readyAt, key,
          createdAt, updatedAt);
    }
  }

  /** Runs {@code op} under the store's lock, which stands for a transaction. */
  private <T> T locked(java.util.function.Supplier<T> op) {
    lock.lock();
    try {
      return op.get();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Instant now() {
    return clock.instant();
  }

  @Override
  public CreateResult create(NewRun run) {
    return locked(
        () -> {
          if (run.idempotencyKey().isPresent()) {
            RunId existing = keys.get(run.tenant() + "\u0000" + run.idempotencyKey().get());
            if (existing != null) {
              return new CreateResult(existing, true);
            }
          }
          Row same = runs.get(run.runId());
          if (same != null) {
            if (!same.tenant.equals(run.tenant())) {
              throw new IllegalArgumentException("run " + run.runId() + " already exists");
            }
            return new CreateResult(run.runId(), true);
          }
          runs.put(run.runId(), new Row(run, now()));
          run.idempotencyKey().ifPresent(k -> keys.put(run.tenant() + "\u0000" + k, run.runId()));
          work.signalAll();
          return new CreateResult(run.runId(), false);
        });
  }

  @Override
  public List<Lease> claim(String workerId, Duration ttl, int max) {
    return locked(
        () -> {
          Instant now = now();
          List<Row> ready =
              runs.values().stream()
                  .filter(r -> !r.status.terminal())
                  .filter(r -> r.readyAt.isPresent() && !r.readyAt.get().isAfter(now))
                  .filter(r -> !r.leased(now))
                  .sorted(
                      Comparator.comparing((Row r) -> r.readyAt.orElseThrow())
                          .thenComparing(r -> r.id))
                  .limit(max)
                  .toList();
          List<Lease> out = new ArrayList<>();
          for (Row r : ready) {
            // a lapsed lease made the run claimable again when it expired
            if (r.expires.isPresent() && r.expires.get().isAfter(r.readyAt.orElseThrow())) {
              r.readyAt = r.expires;
            }
            r.owner = Optional.of(workerId);
            r.epoch++;
            r.expires = Optional.of(now.plus(ttl));
            out.add(new Lease(r.id, workerId, r.epoch, r.signalSeq, r.expires.get(), r.readyAt));
          }
          return out;
        });
  }

  @Override
  public List<Lease> renew(String workerId, Duration ttl) {
    return locked(
        () -> {
          Instant now = now();
          List<Lease> out = new ArrayList<>();
          for (Row r : runs.values()) {
            if (r.owner.equals(Optional.of(workerId)) && r.leased(now)) {
              r.expires = Optional.of(now.plus(ttl));
              out.add(new Lease(r.id, workerId, r.epoch, r.signalSeq, r.expires.get()));
            }
          }
          return out;
        });
  }

  @Override
  public Lease append(Append a) {
    return locked(
        () -> {
          Instant now = now();
          Lease lease = a.lease();
          Row r = runs.get(lease.runId());
          if (r == null) {
            throw new LeaseLostException(lease.runId(), lease.epoch(), "the run does not exist");
          }
          if (!r.owner.equals(Optional.of(lease.workerId())) || r.epoch != lease.epoch()) {
            throw new LeaseLostException(
                lease.runId(), lease.epoch(), "taken over at epoch " + r.epoch);
          }
          if (!r.leased(now)) {
            throw new LeaseLostException(lease.runId(), lease.epoch(), "expired");
          }
          if (r.lastSeq() != a.expectedLastSeq()) {
            throw new LeaseLostException(
                lease.runId(),
                lease.epoch(),
                "expected last seq " + a.expectedLastSeq() + " but the log is at " + r.lastSeq());
          }
          RunState after = a.stateAfter();
          // Check every projection before changing anything, so a rejected append writes nothing.
          for (RecordedEvent e : a.events()) {
            if (e.envelope().event() instanceof RunEvent.ToolCallStarted st) {
              LedgerEntry prev = ledger.get(st.tool() + "\u0000" + st.idempotencyKey());
              if (prev != null && !prev.runId().equals(r.id)) {
                throw new IllegalStateException(
                    "idempotency key "
                        + st.idempotencyKey()
                        + " of "
                        + st.tool()
                        + " belongs to "
                        + prev.runId());
              }
            }
          }
          for (RecordedEvent e : a.events()) {
            r.events.add(e);
            project(r, e.envelope());
          }
          a.checkpoint().ifPresent(r.checkpoints::add);
          r.status = after.status();
          r.updatedAt = now;
          boolean release =
              after.status().terminal() || a.disposition() instanceof Disposition.Release;
          if (release) {
            r.owner = Optional.empty();
            r.expires = Optional.empty();
            Optional<Instant> readyAt =
                a.disposition() instanceof Disposition.Release rel
                    ? rel.readyAt()
                    : Optional.empty();
            r.readyAt =
                after.status().terminal()
                    ? Optional.empty()
                    : r.signalSeq > after.signalsConsumed() ? Optional.of(now) : readyAt;
            if (r.readyAt.isPresent()) {
              work.signalAll();
            }
            return new Lease(r.id, lease.workerId(), r.epoch, r.signalSeq, now);
          }
          r.expires = Optional.of(now.plus(a.leaseTime()));
          return new Lease(r.id, lease.workerId(), r.epoch, r.signalSeq, r.expires.get());
        });
  }

  private void project(Row r, EventEnvelope e) {
    switch (e.event()) {
      case RunEvent.ApprovalRequested a ->
          approvals.put(
              a.approvalId(),
              new ApprovalRecord(
                  a.approvalId(),
                  r.tenant,
                  r.id,
                  a.kind(),
                  a.callId(),
                  a.tool(),
                  a.arguments(),
                  a.argumentsHash(),
                  a.riskLevel(),
                  a.reason(),
                  "pending",
                  Optional.empty(),
                  Optional.empty(),
                  a.expiresAt(),
                  e.at()));
      case RunEvent.ToolCallStarted s -> {
        String k = s.tool() + "\u0000" + s.idempotencyKey();
        LedgerEntry prev = ledger.get(k);
        if (prev != null && !prev.runId().equals(r.id)) {
          throw new IllegalStateException(
              "idempotency key "
                  + s.idempotencyKey()
                  + " of "
                  + s.tool()
                  + " belongs to "
                  + prev.runId());
        }
        ledgerKeysByCall
            .computeIfAbsent(r.id.value() + "\u0000" + s.callId(), x -> new LinkedHashSet<>())
            .add(k);
        ledger.put(
            k,
            new LedgerEntry(
                r.id, s.callId(), s.tool(), s.idempotencyKey(), "started", s.attempt()));
      }
      case RunEvent.ToolCallSucceeded s -> settle(r.id, s.callId(), "succeeded");
      case RunEvent.ToolCallFailed f -> settle(r.id, f.callId(), "failed");
      case RunEvent.ToolOutcomeUnknown u -> settle(r.id, u.callId(), "unknown");
      default -> {}
    }
  }

  private void settle(RunId run, String callId, String status) {
    for (String k : ledgerKeysByCall.getOrDefault(run.value() + "\u0000" + callId, Set.of())) {
      LedgerEntry v = ledger.get(k);
      if (v != null && v.runId().equals(run) && v.callId().equals(callId)) {
        ledger.put(
            k,
            new LedgerEntry(
                v.runId(), v.callId(), v.tool(), v.idempotencyKey(), status, v.attempts()));
      }
    }
  }

  @Override
  public Loaded load(RunId runId) {
    return locked(
        () -> {
          Row r = require(runId);
          Optional<Checkpoint> cp =
              r.checkpoints.isEmpty() ? Optional.empty() : Optional.of(r.checkpoints.getLast());
          long from = cp.map(Checkpoint::throughSeq).orElse(0L);
          return new Loaded(cp, envelopes(r, from, Integer.MAX_VALUE));
        });
  }

  private static List<EventEnvelope> envelopes(Row r, long after, int limit) {
    List<EventEnvelope> out = new ArrayList<>();
    for (int i = (int) after; i < r.events.size() && out.size() < limit; i++) {
      out.add(r.events.get(i).envelope());
    }
    return out;
  }

  private Row require(RunId runId) {
    Row r = runs.get(runId);
    if (r == null) {
      throw new IllegalArgumentException("no run " + runId);
    }
    return r;
  }

  @Override
  public List<EventEnvelope> events(RunId runId, long afterSeq, int limit) {
    return locked(
        () -> {
          Row r = runs.get(runId);
          return r == null ? List.of() : envelopes(r, Math.max(0, afterSeq), limit);
        });
  }

  @Override
  public List<String> eventHashes(RunId runId) {
    return locked(
        () -> {
          return require(runId).events.stream().map(RecordedEvent::hash).toList();
        });
  }

  @Override
  public List<Checkpoint> checkpoints(RunId runId) {
    return locked(
        () -> {
          return List.copyOf(require(runId).checkpoints);
        });
  }

  @Override
  public List<Signal> signals(RunId runId, long afterSeq) {
    return locked(
        () -> {
          return require(runId).signals.stream().filter(s -> s.seq() > afterSeq).toList();
        });
  }

  @Override
  public Optional<Long> signal(String tenant, RunId runId, SignalPayload payload) {
    return locked(
        () -> {
          Row r = runs.get(runId);
          if (r == null || !r.tenant.equals(tenant) || r.status.terminal()) {
            return Optional.empty();
          }
          return Optional.of(addSignal(r, payload));
        });
  }

  @Override
  public boolean wake(RunId runId) {
    return locked(
        () -> {
          Row r = runs.get(runId);
          if (r == null || r.status.terminal()) {
            return false;
          }
          Instant now = now();
          if (r.readyAt.isEmpty() || r.readyAt.get().isAfter(now)) {
            r.readyAt = Optional.of(now);
          }
          work.signalAll();
          return true;
        });
  }

  private long addSignal(Row r, SignalPayload payload) {
    Instant now = now();
    r.signalSeq++;
    r.signals.add(new Signal(r.id, r.signalSeq, now, payload));
    r.readyAt = Optional.of(now);
    work.signalAll();
    return r.signalSeq;
  }

  @Override
  public Optional<ApprovalRecord> decide(String tenant, SignalPayload.ApprovalDecision d) {
    return locked(
        () -> {
          ApprovalRecord a = approvals.get(d.approvalId());
          if (a == null || !a.tenant().equals(tenant)) {
            return Optional.empty();
          }
          Row r = runs.get(a.runId());
          Instant now = now();
          if (!a.status().equals("pending") || !a.expiresAt().isAfter(now) || r.status.terminal()) {
            return Optional.of(a);
          }
          ApprovalRecord decided = withStatus(a, d.decision(), d.decidedBy(), now);
          approvals.put(a.approvalId(), decided);
          addSignal(r, d);
          return Optional.of(decided);
        });
  }

  private static ApprovalRecord withStatus(ApprovalRecord a, String status, String by, Instant at) {
    return new ApprovalRecord(
        a.approvalId(),
        a.tenant(),
        a.runId(),
        a.kind(),
        a.callId(),
        a.tool(),
        a.arguments(),
        a.argumentsHash(),
        a.riskLevel(),
        a.reason(),
        status,
        Optional.of(by),
        Optional.of(at),
        a.expiresAt(),
        a.createdAt());
  }

  @Override
  public int expireApprovals(RunId runId) {
    return locked(
        () -> {
          Instant now = now();
          Row r = require(runId);
          int n = 0;
          for (ApprovalRecord a : List.copyOf(approvals.values())) {
            if (a.runId().equals(runId)
                && a.status().equals("pending")
                && !a.expiresAt().isAfter(now)) {
              approvals.put(a.approvalId(), withStatus(a, "expired", "keel", now));
              addSignal(
                  r,
                  new SignalPayload.ApprovalDecision(
                      a.approvalId(), "expired", "keel", Optional.<JsonObject>empty(), ""));
              n++;
            }
          }
          return n;
        });
  }

  @Override
  public Optional<ApprovalRecord> approval(String tenant, String approvalId) {
    return locked(
        () -> {
          return Optional.ofNullable(approvals.get(approvalId))
              .filter(a -> a.tenant().equals(tenant));
        });
  }

  @Override
  public List<ApprovalRecord> approvals(String tenant, Optional<String> status, int limit) {
    return locked(
        () -> {
          return approvals.values().stream()
              .filter(a -> a.tenant().equals(tenant))
              .filter(a -> status.isEmpty() || a.status().equals(status.get()))
              .sorted(Comparator.comparing(ApprovalRecord::createdAt).reversed())
              .limit(limit)
              .toList();
        });
  }

  @Override
  public Optional<RunRow> row(RunId runId) {
    return locked(
        () -> {
          return Optional.ofNullable(runs.get(runId)).map(Row::row);
        });
  }

  @Override
  public List<RunRow> rows() {
    return locked(
        () -> {
          return runs.values().stream().map(Row::row).toList();
        });
  }

  @Override
  public List<LedgerEntry> ledger(RunId runId) {
    return locked(
        () -> {
          return ledger.values().stream().filter(e -> e.runId().equals(runId)).toList();
        });
  }

  @Override
  @SuppressWarnings("WaitNotInLoop") // the port allows spurious returns: callers poll again
  public void awaitWork(Duration max) throws InterruptedException {
    lock.lock();
    try {
      work.await(max.toNanos(), TimeUnit.NANOSECONDS);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {}
}
