package dev.keel.testkit.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.FinishReason;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.Hashes;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.run.StateCodec;
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
import dev.keel.tool.UnknownOutcomePolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link RunStore} shares: creation, claims and fencing, projections, signals,
 * approvals, checkpoints and reads. Each adapter's test extends this with {@link #newStore()}.
 *
 * <p>Time-dependent cases use short real lease times and {@link #elapse}, which sleeps; a store on
 * a manual clock overrides it to advance the clock instead. Every time a case compares is the
 * store's own ({@link RunStore#now()}), truncated to milliseconds, the precision every store keeps.
 */
@Timeout(60)
public abstract class RunStoreContract {

  /** The tenant of most cases. */
  protected static final String TENANT = "acme";

  /** A short lease, for expiry cases. */
  protected static final Duration SHORT = Duration.ofMillis(600);

  /** Comfortably longer than {@link #SHORT}. */
  protected static final Duration PAST_SHORT = Duration.ofMillis(800);

  /** A lease that does not expire during a case. */
  protected static final Duration LONG = Duration.ofSeconds(30);

  /** The store under test, fresh for every case. */
  protected RunStore store;

  /** A new, empty store. */
  protected abstract RunStore newStore();

  /** Lets {@code d} pass on the store's clock; sleeps by default. */
  protected void elapse(Duration d) throws InterruptedException {
    Thread.sleep(d);
  }

  /** Opens the store. */
  @BeforeEach
  void openStore() {
    store = newStore();
  }

  /** Closes the store. */
  @AfterEach
  void closeStore() {
    store.close();
  }

  // ---------------------------------------------------------------- helpers

  /** A run as a test drives it: its state and its writer's lease. */
  protected final class Handle {
    final RunId id;
    RunState state;
    Lease lease;

    Handle(RunId id, RunState state) {
      this.id = id;
      this.state = state;
    }

    /** Claims the run for {@code worker}, expecting to get it. */
    Handle claim(String worker, Duration ttl) {
      List<Lease> got = store.claim(worker, ttl, 100);
      assertThat(got).extracting(Lease::runId).contains(id);
      lease = got.stream().filter(l -> l.runId().equals(id)).findFirst().orElseThrow();
      return this;
    }

    /** Builds an append of {@code events} from the current state. */
    Append build(Disposition d, Optional<Checkpoint> cp, RunEvent... events) {
      return appendOf(lease, state, d, cp, events);
    }

    /** Appends {@code events} and keeps the lease. */
    Lease write(RunEvent... events) {
      return write(Disposition.KEEP, events);
    }

    /** Appends {@code events} with {@code d}. */
    Lease write(Disposition d, RunEvent... events) {
      Append a = build(d, Optional.empty(), events);
      lease = store.append(a);
      state = a.stateAfter();
      return lease;
    }
  }

  /** An append of {@code events} after {@code before}, with their hashes and the fold. */
  protected Append appendOf(
      Lease lease, RunState before, Disposition d, Optional<Checkpoint> cp, RunEvent... events) {
    RunState s = before;
    List<RecordedEvent> recorded = new ArrayList<>();
    Instant at = at();
    for (RunEvent e : events) {
      EventEnvelope env = new EventEnvelope(before.runId(), s.lastSeq() + 1, at, lease.epoch(), e);
      String hash = Hashes.chain(s.chainHash(), env);
      s = s.apply(env);
      recorded.add(new RecordedEvent(env, hash));
    }
    return new Append(lease, before.lastSeq(), recorded, s, cp, d, LONG);
  }

  /** An event time: the store's now, in milliseconds. */
  protected Instant at() {
    return store.now().truncatedTo(ChronoUnit.MILLIS);
  }

  /** A fresh run id. */
  protected static RunId newId() {
    return RunId.of("run_" + UUID.randomUUID().toString().replace("-", ""));
  }

  /** The run.created event of a run of {@code tenant}. */
  protected static RunEvent.RunCreated created(String tenant) {
    return new RunEvent.RunCreated(
        tenant,
        "support",
        "v1",
        JsonValue.object("goal", "answer the ticket"),
        Budget.DEFAULT,
        "api",
        Optional.of("thread_1"),
        Optional.empty(),
        JsonValue.EMPTY_OBJECT);
  }

  /** A new run to create. */
  protected NewRun newRun(RunId id, String tenant, Optional<String> key) {
    EventEnvelope env = new EventEnvelope(id, 1, at(), 0, created(tenant));
    return new NewRun(id, tenant, key, new RecordedEvent(env, Hashes.chain(Hashes.GENESIS, env)));
  }

  /** Creates a run of {@link #TENANT} and returns its handle. */
  protected Handle create() {
    return create(TENANT);
  }

  /** Creates a run of {@code tenant} and returns its handle. */
  protected Handle create(String tenant) {
    NewRun n = newRun(newId(), tenant, Optional.empty());
    assertThat(store.create(n).existing()).isFalse();
    return new Handle(n.runId(), RunState.initial(n.created().envelope()));
  }

  /** Creates and claims a run for {@code worker}, and starts it. */
  protected Handle started(String worker) {
    Handle h = create().claim(worker, LONG);
    h.write(new RunEvent.RunStarted());
    return h;
  }

  private static final JsonObject ARGS = JsonValue.object("to", "a@example.com", "amount", 5L);

  /** The events of step 1 up to an allowed or approval-gated call of {@code tool}. */
  protected static RunEvent[] stepWithCall(String tool, String verdict) {
    String callId = RunState.callId(1, 0);
    return new RunEvent[] {
      new RunEvent.ModelRequested(1, "m", 100),
      new RunEvent.ModelResponded(
          1,
          new ModelResponse(
              "m",
              "",
              List.of(new ToolCallRequest("prov_1", tool, ARGS)),
              TokenUsage.of(10, 5),
              FinishReason.TOOL_CALLS),
          42),
      new RunEvent.ToolCallProposed(1, callId, tool, "1", ARGS, verdict, "")
    };
  }

  /** An approval request for the call of {@link #stepWithCall}. */
  protected static RunEvent.ApprovalRequested approvalRequested(String id, Instant expiresAt) {
    return new RunEvent.ApprovalRequested(
        id,
        "tool_call",
        RunState.callId(1, 0),
        "pay",
        ARGS,
        Hashes.of(ARGS),
        3,
        "payments need a person",
        expiresAt);
  }

  /** A started run waiting on approval {@code approvalId}, released until it expires. */
  protected Handle awaitingApproval(String approvalId, Instant expiresAt) {
    Handle h = started("w1");
    List<RunEvent> events = new ArrayList<>(List.of(stepWithCall("pay", "approval")));
    events.add(approvalRequested(approvalId, expiresAt));
    events.add(new RunEvent.RunWaiting("approval"));
    h.write(new Disposition.Release(Optional.of(expiresAt)), events.toArray(RunEvent[]::new));
    return h;
  }

  private RunRow row(Handle h) {
    return store.row(h.id).orElseThrow();
  }

  private static RunEvent[] complete() {
    return new RunEvent[] {
      new RunEvent.OutputRecorded(JsonValue.object("answer", "done")), new RunEvent.RunCompleted()
    };
  }

  // ---------------------------------------------------------------- create

  @Test
  void createStoresTheRunRowAndItsFirstEvent() {
    NewRun n = newRun(newId(), TENANT, Optional.of("key-1"));
    CreateResult r = store.create(n);

    assertThat(r).isEqualTo(new CreateResult(n.runId(), false));
    RunRow row = store.row(n.runId()).orElseThrow();
    assertThat(row.tenant()).isEqualTo(TENANT);
    assertThat(row.agentName()).isEqualTo("support");
    assertThat(row.status()).isEqualTo(RunStatus.QUEUED);
    assertThat(row.lastSeq()).isEqualTo(1);
    assertThat(row.signalSeq()).isZero();
    assertThat(row.leaseOwner()).isEmpty();
    assertThat(row.leaseEpoch()).isZero();
    assertThat(row.readyAt()).isPresent();
    assertThat(row.idempotencyKey()).contains("key-1");
    assertThat(store.events(n.runId(), 0, 10)).containsExactly(n.created().envelope());
    assertThat(store.eventHashes(n.runId())).containsExactly(n.created().hash());
    assertThat(store.rows()).extracting(RunRow::runId).containsExactly(n.runId());
  }

  @Test
  void createWithAKeyTheTenantUsedReturnsTheExistingRun() {
    NewRun first = newRun(newId(), TENANT, Optional.of("same"));
    NewRun again = newRun(newId(), TENANT, Optional.of("same"));
    NewRun otherTenant = newRun(newId(), "other", Optional.of("same"));

    store.create(first);

    assertThat(store.create(again)).isEqualTo(new CreateResult(first.runId(), true));
    assertThat(store.row(again.runId())).isEmpty();
    assertThat(store.create(otherTenant)).isEqualTo(new CreateResult(otherTenant.runId(), false));
    assertThat(store.rows()).hasSize(2);
  }

  @Test
  void concurrentCreatesWithOneKeyMakeOneRun() throws Exception {
    int n = 100;
    List<NewRun> runs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      runs.add(newRun(newId(), TENANT, Optional.of("race")));
    }
    CountDownLatch go = new CountDownLatch(1);
    List<Future<CreateResult>> results = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (NewRun r : runs) {
        results.add(
            ex.submit(
                () -> {
                  go.await();
                  return store.create(r);
                }));
      }
      go.countDown();
    }
    Set<RunId> ids = new HashSet<>();
    int fresh = 0;
    for (Future<CreateResult> f : results) {
      CreateResult r = f.get();
      ids.add(r.runId());
      fresh += r.existing() ? 0 : 1;
    }
    assertThat(ids).hasSize(1);
    assertThat(fresh).isEqualTo(1);
    assertThat(store.rows()).hasSize(1);
    assertThat(store.events(ids.iterator().next(), 0, 10)).hasSize(1);
  }

  // ---------------------------------------------------------------- claim

  @Test
  void claimLeasesTheRunWithANewEpoch() {
    Handle h = create();

    List<Lease> leases = store.claim("w1", LONG, 10);

    assertThat(leases).hasSize(1);
    Lease l = leases.getFirst();
    assertThat(l.runId()).isEqualTo(h.id);
    assertThat(l.workerId()).isEqualTo("w1");
    assertThat(l.epoch()).isEqualTo(1);
    assertThat(l.signalSeq()).isZero();
    assertThat(l.expiresAt()).isAfter(store.now().plusSeconds(20));
    RunRow row = row(h);
    assertThat(row.leaseOwner()).contains("w1");
    assertThat(row.leaseEpoch()).isEqualTo(1);
    assertThat(row.leaseExpiresAt()).isPresent();
    assertThat(store.claim("w2", LONG, 10)).isEmpty();
  }

  @Test
  void claimTakesTheOldestReadyFirstAndAtMostMax() throws Exception {
    List<RunId> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(create().id);
      elapse(Duration.ofMillis(5));
    }

    assertThat(store.claim("w1", LONG, 2))
        .extracting(Lease::runId)
        .containsExactly(ids.get(0), ids.get(1));
    assertThat(store.claim("w1", LONG, 2)).extracting(Lease::runId).containsExactly(ids.get(2));
    assertThat(store.claim("w1", LONG, 2)).isEmpty();
  }

  @Test
  void concurrentClaimersNeverGetTheSameRun() throws Exception {
    int runs = 30;
    for (int i = 0; i < runs; i++) {
      create();
    }
    ConcurrentLinkedQueue<RunId> claimed = new ConcurrentLinkedQueue<>();
    CountDownLatch go = new CountDownLatch(1);
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int w = 0; w < 8; w++) {
        String worker = "w" + w;
        ex.submit(
            () -> {
              go.await();
              for (Lease l : store.claim(worker, LONG, 5)) {
                claimed.add(l.runId());
              }
              return null;
            });
      }
      go.countDown();
    }
    for (Lease l : store.claim("late", LONG, runs)) {
      claimed.add(l.runId());
    }
    assertThat(claimed).hasSize(runs).doesNotHaveDuplicates();
  }

  @Test
  void anExpiredLeaseIsTakenOverWithAHigherEpoch() throws Exception {
    Handle h = create().claim("w1", SHORT);

    assertThat(store.claim("w2", LONG, 10)).isEmpty();
    elapse(PAST_SHORT);
    List<Lease> taken = store.claim("w2", LONG, 10);

    assertThat(taken).hasSize(1);
    assertThat(taken.getFirst().epoch()).isEqualTo(2);
    assertThat(row(h).leaseOwner()).contains("w2");
  }

  @Test
  void aClaimTellsWhenItsRunBecameClaimable() throws Exception {
    Handle h = create();
    Instant created = row(h).createdAt();
    elapse(Duration.ofMillis(50));

    // created: claimable since its creation
    Lease first = h.claim("w1", SHORT).lease;
    assertThat(first.readyAt()).contains(created);
    assertThat(first.expiresAt().minus(SHORT)).isAfterOrEqualTo(created.plusMillis(50));

    // the lease lapsed: claimable again when it expired, not since creation
    elapse(PAST_SHORT);
    Lease second = h.claim("w2", LONG).lease;
    assertThat(second.readyAt()).contains(first.expiresAt());
    // leases that were not just claimed say nothing about it
    assertThat(h.write(new RunEvent.RunStarted()).readyAt()).isEmpty();

    // released to sleep, then woken by a signal: claimable since the signal
    h.write(Disposition.RELEASE, new RunEvent.RunWaiting("input"));
    elapse(Duration.ofMillis(20));
    store.signal(TENANT, h.id, new SignalPayload.UserMessage("go on", "alice"));
    Instant signalled = row(h).readyAt().orElseThrow();
    elapse(Duration.ofMillis(50));
    Lease third = h.claim("w3", LONG).lease;
    assertThat(third.readyAt()).contains(signalled);
    assertThat(Duration.between(signalled, third.expiresAt().minus(LONG)))
        .isGreaterThanOrEqualTo(Duration.ofMillis(50));
  }

  // ---------------------------------------------------------------- fencing

  @Test
  void anAppendAfterATakeoverIsRejectedAndWritesNothing() throws Exception {
    Handle h = create().claim("w1", SHORT);
    Lease old = h.lease;
    elapse(PAST_SHORT);
    Lease newer = store.claim("w2", LONG, 10).getFirst();

    Append stale = h.build(Disposition.KEEP, Optional.empty(), new RunEvent.RunStarted());
    assertThatThrownBy(() -> store.append(stale)).isInstanceOf(LeaseLostException.class);

    assertThat(store.events(h.id, 0, 10)).hasSize(1);
    assertThat(row(h).lastSeq()).isEqualTo(1);
    assertThat(row(h).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(old.epoch()).isLessThan(newer.epoch());
    h.lease = newer;
    h.write(new RunEvent.RunStarted());
    assertThat(row(h).lastSeq()).isEqualTo(2);
  }

  @Test
  void anAppendAfterTheLeaseExpiredIsRejected() throws Exception {
    Handle h = create().claim("w1", SHORT);
    elapse(PAST_SHORT);

    Append late = h.build(Disposition.KEEP, Optional.empty(), new RunEvent.RunStarted());
    assertThatThrownBy(() -> store.append(late)).isInstanceOf(LeaseLostException.class);

    assertThat(store.events(h.id, 0, 10)).hasSize(1);
    assertThat(row(h).lastSeq()).isEqualTo(1);
  }

  @Test
  void anAppendWithAStaleExpectedSeqIsRejected() {
    Handle h = create().claim("w1", LONG);
    RunState before = h.state;
    h.write(new RunEvent.RunStarted());

    Append stale =
        appendOf(h.lease, before, Disposition.KEEP, Optional.empty(), new RunEvent.RunStarted());
    assertThatThrownBy(() -> store.append(stale)).isInstanceOf(LeaseLostException.class);

    assertThat(store.events(h.id, 0, 10)).hasSize(2);
    assertThat(store.eventHashes(h.id)).hasSize(2);
  }

  @Test
  void anAppendByAnotherWorkerIsRejected() {
    Handle h = create().claim("w1", LONG);
    Lease forged =
        new Lease(h.id, "intruder", h.lease.epoch(), h.lease.signalSeq(), h.lease.expiresAt());

    Append a =
        appendOf(forged, h.state, Disposition.KEEP, Optional.empty(), new RunEvent.RunStarted());
    assertThatThrownBy(() -> store.append(a)).isInstanceOf(LeaseLostException.class);
    assertThat(row(h).lastSeq()).isEqualTo(1);
  }

  @Test
  void keepExtendsTheLeaseByTheAppendsLeaseTime() throws Exception {
    Handle h = create().claim("w1", SHORT);

    Lease kept = h.write(new RunEvent.RunStarted());

    assertThat(kept.epoch()).isEqualTo(1);
    assertThat(kept.expiresAt()).isAfter(store.now().plusSeconds(20));
    elapse(PAST_SHORT);
    assertThat(store.claim("w2", LONG, 10)).isEmpty();
    h.write(new RunEvent.ModelRequested(1, "m", 10));
    assertThat(row(h).lastSeq()).isEqualTo(3);
  }

  @Test
  void theRunRowFollowsTheStateAfterTheAppend() {
    Handle h = started("w1");

    RunRow row = row(h);
    assertThat(row.status()).isEqualTo(RunStatus.RUNNING);
    assertThat(row.lastSeq()).isEqualTo(2);
    assertThat(row.updatedAt()).isAfterOrEqualTo(row.createdAt());
  }

  @Test
  void aTerminalAppendReleasesTheLeaseEvenWhenAskedToKeepIt() {
    Handle h = started("w1");

    h.write(Disposition.KEEP, complete());

    RunRow row = row(h);
    assertThat(row.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(row.leaseOwner()).isEmpty();
    assertThat(row.leaseExpiresAt()).isEmpty();
    assertThat(row.readyAt()).isEmpty();
    assertThat(store.claim("w2", LONG, 10)).isEmpty();
  }

  @Test
  void appendsOfManyRunsAtOnceFailOnlyWhereFenced() throws Exception {
    int n = 40;
    List<Handle> runs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      runs.add(create());
    }
    for (Lease l : store.claim("w1", LONG, n)) {
      runs.stream().filter(h -> h.id.equals(l.runId())).findFirst().orElseThrow().lease = l;
    }
    List<Append> appends = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Handle h = runs.get(i);
      RunState before = h.state;
      if (i % 2 == 0) {
        h.write(new RunEvent.RunStarted()); // the next append of this run is stale
      }
      appends.add(
          appendOf(h.lease, before, Disposition.KEEP, Optional.empty(), new RunEvent.RunStarted()));
    }
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger written = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Append a : appends) {
        ex.submit(
            () -> {
              go.await();
              try {
                store.append(a);
                written.incrementAndGet();
              } catch (LeaseLostException e) {
                lost.incrementAndGet();
              }
              return null;
            });
      }
      go.countDown();
    }
    assertThat(lost.get()).isEqualTo(n / 2);
    assertThat(written.get()).isEqualTo(n / 2);
    for (Handle h : runs) {
      assertThat(store.events(h.id, 0, 10)).hasSize(2);
      assertThat(row(h).lastSeq()).isEqualTo(2);
    }
  }

  // ---------------------------------------------------------------- release and signals

  @Test
  void aReleasedRunSleepsUntilASignalWakesIt() {
    Handle h = started("w1");
    h.write(Disposition.RELEASE, new RunEvent.RunWaiting("input"));
    assertThat(row(h).leaseOwner()).isEmpty();
    assertThat(store.claim("w2", LONG, 10)).isEmpty();

    Optional<Long> seq =
        store.signal(TENANT, h.id, new SignalPayload.UserMessage("here you go", "alice"));

    assertThat(seq).contains(1L);
    List<Lease> leases = store.claim("w2", LONG, 10);
    assertThat(leases).hasSize(1);
    assertThat(leases.getFirst().signalSeq()).isEqualTo(1);
    assertThat(leases.getFirst().epoch()).isEqualTo(2);
  }

  @Test
  void aReleaseWithATimerMakesTheRunClaimableThen() throws Exception {
    Handle h = started("w1");
    Instant readyAt = store.now().plus(SHORT);
    h.write(new Disposition.Release(Optional.of(readyAt)), new RunEvent.RunWaiting("timer"));

    assertThat(store.claim("w2", LONG, 10)).isEmpty();
    elapse(PAST_SHORT);
    assertThat(store.claim("w2", LONG, 10)).extracting(Lease::runId).containsExactly(h.id);
  }

  @Test
  void aReleaseWithAnUnconsumedSignalIsClaimableAtOnce() {
    Handle h = started("w1");
    store.signal(TENANT, h.id, new SignalPayload.Pause("alice"));

    Lease released = h.write(Disposition.RELEASE, new RunEvent.RunWaiting("input"));

    assertThat(released.signalSeq()).isEqualTo(1);
    assertThat(store.claim("w2", LONG, 10)).extracting(Lease::runId).containsExactly(h.id);
  }

  @Test
  void signalsAreDenseInOrderAndTenantScoped() {
    Handle h = started("w1");
    List<SignalPayload> sent =
        List.of(
            new SignalPayload.UserMessage("one", "alice"),
            new SignalPayload.Pause("bob"),
            new SignalPayload.Resume(JsonValue.object("text", "go on"), "bob"));
    List<Long> seqs = new ArrayList<>();
    for (SignalPayload p : sent) {
      seqs.add(store.signal(TENANT, h.id, p).orElseThrow());
    }

    assertThat(seqs).containsExactly(1L, 2L, 3L);
    List<Signal> after1 = store.signals(h.id, 1);
    assertThat(after1).extracting(Signal::seq).containsExactly(2L, 3L);
    assertThat(after1).extracting(Signal::payload).containsExactly(sent.get(1), sent.get(2));
    assertThat(store.signals(h.id, 0)).extracting(Signal::runId).containsOnly(h.id);
    assertThat(store.signal("other", h.id, new SignalPayload.Pause("eve"))).isEmpty();
    assertThat(store.signal(TENANT, newId(), new SignalPayload.Pause("eve"))).isEmpty();
    assertThat(row(h).signalSeq()).isEqualTo(3);
    assertThat(store.renew("w1", LONG)).extracting(Lease::signalSeq).containsExactly(3L);
  }

  @Test
  void concurrentSignalsGetDenseSequences() throws Exception {
    Handle h = started("w1");
    int n = 50;
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Optional<Long>>> seqs = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        String text = "message " + i;
        seqs.add(
            ex.submit(
                () -> {
                  go.await();
                  return store.signal(TENANT, h.id, new SignalPayload.UserMessage(text, "alice"));
                }));
      }
      go.countDown();
    }
    Set<Long> got = new HashSet<>();
    for (Future<Optional<Long>> f : seqs) {
      got.add(f.get().orElseThrow());
    }
    assertThat(got).hasSize(n).allMatch(seq -> seq >= 1 && seq <= n);
    assertThat(store.signals(h.id, 0)).extracting(Signal::seq).hasSize(n).isSorted();
    assertThat(row(h).signalSeq()).isEqualTo(n);
  }

  @Test
  void aSignalToAnEndedRunIsRefused() {
    Handle h = started("w1");
    h.write(complete());

    assertThat(store.signal(TENANT, h.id, new SignalPayload.Cancel("late", "alice"))).isEmpty();
    assertThat(store.signals(h.id, 0)).isEmpty();
    assertThat(row(h).signalSeq()).isZero();
  }

  @Test
  void awaitWorkReturnsSoonAfterASignal() throws Exception {
    Handle h = started("w1");
    h.write(Disposition.RELEASE, new RunEvent.RunWaiting("input"));
    CountDownLatch waiting = new CountDownLatch(1);
    long[] waitedNanos = new long[1];
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  waiting.countDown();
                  long t0 = System.nanoTime();
                  try {
                    store.awaitWork(Duration.ofSeconds(20));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  waitedNanos[0] = System.nanoTime() - t0;
                });
    waiting.await();
    Thread.sleep(100);
    store.signal(TENANT, h.id, new SignalPayload.UserMessage("hi", "alice"));
    waiter.join(Duration.ofSeconds(10));

    assertThat(waiter.isAlive()).isFalse();
    assertThat(Duration.ofNanos(waitedNanos[0])).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void awaitWorkReturnsByItsMaximum() throws Exception {
    long t0 = System.nanoTime();
    store.awaitWork(Duration.ofMillis(200));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
  }

  // ---------------------------------------------------------------- approvals

  @Test
  void anApprovalRequestIsProjectedAsAPendingApproval() {
    Instant expires = at().plusSeconds(600);
    Handle h = awaitingApproval("apr_1", expires);

    ApprovalRecord a = store.approval(TENANT, "apr_1").orElseThrow();
    assertThat(a.tenant()).isEqualTo(TENANT);
    assertThat(a.runId()).isEqualTo(h.id);
    assertThat(a.kind()).isEqualTo("tool_call");
    assertThat(a.callId()).isEqualTo(RunState.callId(1, 0));
    assertThat(a.tool()).isEqualTo("pay");
    assertThat(a.arguments()).isEqualTo(ARGS);
    assertThat(a.argumentsHash()).isEqualTo(Hashes.of(ARGS));
    assertThat(a.riskLevel()).isEqualTo(3);
    assertThat(a.reason()).isEqualTo("payments need a person");
    assertThat(a.status()).isEqualTo("pending");
    assertThat(a.decidedBy()).isEmpty();
    assertThat(a.decidedAt()).isEmpty();
    assertThat(a.expiresAt()).isEqualTo(expires);
    assertThat(store.approval("other", "apr_1")).isEmpty();
    assertThat(store.approvals(TENANT, Optional.of("pending"), 10))
        .extracting(ApprovalRecord::approvalId)
        .containsExactly("apr_1");
    assertThat(store.approvals(TENANT, Optional.of("approved"), 10)).isEmpty();
    assertThat(store.approvals("other", Optional.empty(), 10)).isEmpty();
    assertThat(row(h).status()).isEqualTo(RunStatus.WAITING);
    assertThat(row(h).leaseOwner()).isEmpty();
  }

  @Test
  void approvalsAreListedNewestFirst() throws Exception {
    awaitingApproval("apr_a", at().plusSeconds(600));
    elapse(Duration.ofMillis(5));
    awaitingApproval("apr_b", at().plusSeconds(600));

    assertThat(store.approvals(TENANT, Optional.empty(), 10))
        .extracting(ApprovalRecord::approvalId)
        .containsExactly("apr_b", "apr_a");
    assertThat(store.approvals(TENANT, Optional.empty(), 1)).hasSize(1);
  }

  @Test
  void anApprovalIsDecidedExactlyOnceUnderConcurrentDeciders() throws Exception {
    Handle h = awaitingApproval("apr_1", at().plusSeconds(600));
    int n = 50;
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Optional<ApprovalRecord>>> results = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        String who = "approver" + i;
        String decision = i % 2 == 0 ? "approved" : "denied";
        results.add(
            ex.submit(
                () -> {
                  go.await();
                  return store.decide(
                      TENANT,
                      new SignalPayload.ApprovalDecision(
                          "apr_1", decision, who, Optional.empty(), ""));
                }));
      }
      go.countDown();
    }
    ApprovalRecord finalRecord = store.approval(TENANT, "apr_1").orElseThrow();
    assertThat(finalRecord.status()).isIn("approved", "denied");
    assertThat(finalRecord.decidedBy()).isPresent();
    assertThat(finalRecord.decidedAt()).isPresent();
    for (Future<Optional<ApprovalRecord>> f : results) {
      ApprovalRecord seen = f.get().orElseThrow();
      assertThat(seen.status()).isEqualTo(finalRecord.status());
      assertThat(seen.decidedBy()).isEqualTo(finalRecord.decidedBy());
    }
    List<Signal> signals = store.signals(h.id, 0);
    assertThat(signals).hasSize(1);
    SignalPayload.ApprovalDecision d =
        (SignalPayload.ApprovalDecision) signals.getFirst().payload();
    assertThat(d.approvalId()).isEqualTo("apr_1");
    assertThat(d.decision()).isEqualTo(finalRecord.status());
    assertThat(d.decidedBy()).isEqualTo(finalRecord.decidedBy().orElseThrow());
    assertThat(store.claim("w2", LONG, 10)).extracting(Lease::runId).containsExactly(h.id);
  }

  @Test
  void anApprovalOfAnEndedRunIsNotDecided() {
    Handle h = awaitingApproval("apr_1", at().plusSeconds(600));
    long cancel =
        store.signal(TENANT, h.id, new SignalPayload.Cancel("stop", "alice")).orElseThrow();
    h.claim("w2", LONG);
    h.write(new RunEvent.RunCancelled("stop", cancel));

    Optional<ApprovalRecord> after =
        store.decide(
            TENANT,
            new SignalPayload.ApprovalDecision("apr_1", "approved", "bob", Optional.empty(), ""));

    assertThat(after.orElseThrow().status()).isEqualTo("pending");
    assertThat(store.signals(h.id, 0)).hasSize(1);
    assertThat(row(h).status()).isEqualTo(RunStatus.CANCELLED);
  }

  @Test
  void anotherTenantCannotDecideAndAnUnknownApprovalIsEmpty() {
    Handle h = awaitingApproval("apr_1", at().plusSeconds(600));
    SignalPayload.ApprovalDecision d =
        new SignalPayload.ApprovalDecision("apr_1", "approved", "eve", Optional.empty(), "");

    assertThat(store.decide("other", d)).isEmpty();
    assertThat(
            store.decide(
                TENANT,
                new SignalPayload.ApprovalDecision(
                    "apr_nope", "approved", "bob", Optional.empty(), "")))
        .isEmpty();
    assertThat(store.approval(TENANT, "apr_1").orElseThrow().status()).isEqualTo("pending");
    assertThat(store.signals(h.id, 0)).isEmpty();
  }

  @Test
  void anExpiredApprovalCannotBeDecidedAndExpiresOnce() throws Exception {
    Instant expires = at().plus(SHORT);
    Handle h = awaitingApproval("apr_1", expires);
    elapse(PAST_SHORT);

    Optional<ApprovalRecord> late =
        store.decide(
            TENANT,
            new SignalPayload.ApprovalDecision("apr_1", "approved", "bob", Optional.empty(), ""));
    assertThat(late.orElseThrow().status()).isEqualTo("pending");
    assertThat(store.signals(h.id, 0)).isEmpty();

    assertThat(store.expireApprovals(h.id)).isEqualTo(1);
    assertThat(store.expireApprovals(h.id)).isZero();

    ApprovalRecord a = store.approval(TENANT, "apr_1").orElseThrow();
    assertThat(a.status()).isEqualTo("expired");
    assertThat(a.decidedAt()).isPresent();
    List<Signal> signals = store.signals(h.id, 0);
    assertThat(signals).hasSize(1);
    assertThat(((SignalPayload.ApprovalDecision) signals.getFirst().payload()).decision())
        .isEqualTo("expired");
    assertThat(store.claim("w2", LONG, 10)).extracting(Lease::runId).containsExactly(h.id);
  }

  @Test
  void aPendingApprovalIsNotExpiredEarly() {
    Handle h = awaitingApproval("apr_1", at().plusSeconds(600));

    assertThat(store.expireApprovals(h.id)).isZero();
    assertThat(store.approval(TENANT, "apr_1").orElseThrow().status()).isEqualTo("pending");
  }

  // ---------------------------------------------------------------- ledger

  @Test
  void theLedgerFollowsTheToolEvents() {
    Handle h = started("w1");
    String callId = RunState.callId(1, 0);
    h.write(stepWithCall("search", "allow"));
    h.write(new RunEvent.ToolCallStarted(callId, "search", "key-1", 1, h.lease.epoch()));
    assertThat(store.ledger(h.id))
        .containsExactly(new LedgerEntry(h.id, callId, "search", "key-1", "started", 1));

    h.write(new RunEvent.ToolCallStarted(callId, "search", "key-1", 2, h.lease.epoch()));
    h.write(new RunEvent.ToolCallSucceeded(callId, JsonValue.object("hits", 3L)));

    assertThat(store.ledger(h.id))
        .containsExactly(new LedgerEntry(h.id, callId, "search", "key-1", "succeeded", 2));
  }

  @Test
  void theLedgerRecordsFailedAndUnknownOutcomes() {
    Handle h = started("w1");
    String callId = RunState.callId(1, 0);
    h.write(stepWithCall("pay", "allow"));
    h.write(new RunEvent.ToolCallStarted(callId, "pay", "key-pay", 1, h.lease.epoch()));
    h.write(new RunEvent.ToolOutcomeUnknown(callId, UnknownOutcomePolicy.FAIL, ""));
    assertThat(store.ledger(h.id)).extracting(LedgerEntry::status).containsExactly("unknown");

    Handle other = started("w2");
    other.write(stepWithCall("search", "allow"));
    other.write(new RunEvent.ToolCallStarted(callId, "search", "key-s", 1, other.lease.epoch()));
    other.write(new RunEvent.ToolCallFailed(callId, "timeout", true, "slow"));
    assertThat(store.ledger(other.id)).extracting(LedgerEntry::status).containsExactly("failed");
  }

  @Test
  void aToolsIdempotencyKeyBelongsToOneRun() {
    String callId = RunState.callId(1, 0);
    Handle a = started("w1");
    a.write(stepWithCall("search", "allow"));
    a.write(new RunEvent.ToolCallStarted(callId, "search", "shared", 1, a.lease.epoch()));
    Handle b = started("w2");
    b.write(stepWithCall("search", "allow"));
    long before = store.row(b.id).orElseThrow().lastSeq();

    Append clash =
        b.build(
            Disposition.KEEP,
            Optional.empty(),
            new RunEvent.ToolCallStarted(callId, "search", "shared", 1, b.lease.epoch()));
    assertThatThrownBy(() -> store.append(clash)).isInstanceOf(RuntimeException.class);

    assertThat(store.row(b.id).orElseThrow().lastSeq()).isEqualTo(before);
    assertThat(store.ledger(b.id)).isEmpty();
    assertThat(store.ledger(a.id)).hasSize(1);
    b.write(new RunEvent.ToolCallStarted(callId, "search", "own", 1, b.lease.epoch()));
    assertThat(store.ledger(b.id)).extracting(LedgerEntry::idempotencyKey).containsExactly("own");
  }

  // ---------------------------------------------------------------- checkpoints and reads

  @Test
  void checkpointsRoundTripAndLoadStartsFromTheNewest() {
    Handle h = started("w1");
    assertThat(store.load(h.id).checkpoint()).isEmpty();
    assertThat(store.load(h.id).events()).hasSize(2);

    Checkpoint first = checkpointOf(h.state, Hashes.GENESIS);
    Append a1 = h.build(Disposition.KEEP, Optional.of(first));
    h.lease = store.append(a1);
    h.write(stepWithCall("search", "allow"));
    Checkpoint second = checkpointOf(h.state, first.hash());
    h.lease = store.append(h.build(Disposition.KEEP, Optional.of(second)));
    h.write(new RunEvent.ToolCallStarted(RunState.callId(1, 0), "search", "k", 1, 1));

    assertThat(store.checkpoints(h.id)).containsExactly(first, second);
    Loaded loaded = store.load(h.id);
    assertThat(loaded.checkpoint()).contains(second);
    assertThat(loaded.events()).extracting(EventEnvelope::seq).containsExactly(6L);
    RunState folded = loaded.checkpoint().orElseThrow().state();
    for (EventEnvelope e : loaded.events()) {
      folded = folded.apply(e);
    }
    assertThat(folded).isEqualTo(h.state);
  }

  /** A checkpoint of {@code s} chained to {@code previous}. */
  protected static Checkpoint checkpointOf(RunState s, String previous) {
    String stateHash = Hashes.of(StateCodec.toJson(s));
    return new Checkpoint(
        s.runId(),
        s.step(),
        s.lastSeq(),
        s,
        stateHash,
        previous,
        Hashes.checkpoint(previous, s.chainHash(), stateHash));
  }

  @Test
  void eventsPageInOrderAndTheirHashesVerifyTheChain() {
    Handle h = started("w1");
    h.write(stepWithCall("search", "allow"));

    List<EventEnvelope> all = store.events(h.id, 0, 100);
    assertThat(all).extracting(EventEnvelope::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(store.events(h.id, 2, 2)).extracting(EventEnvelope::seq).containsExactly(3L, 4L);
    assertThat(RunState.fold(all)).isEqualTo(h.state);
    String chain = Hashes.GENESIS;
    List<String> expected = new ArrayList<>();
    for (EventEnvelope e : all) {
      chain = Hashes.chain(chain, e);
      expected.add(chain);
    }
    assertThat(store.eventHashes(h.id)).isEqualTo(expected);
    assertThat(chain).isEqualTo(h.state.chainHash());
  }

  @Test
  void renewExtendsOnlyLiveLeasesOfTheWorker() throws Exception {
    Handle a = create();
    Handle b = create();
    for (Lease l : store.claim("w1", SHORT, 10)) {
      (l.runId().equals(a.id) ? a : b).lease = l;
    }
    b.write(Disposition.RELEASE, new RunEvent.RunStarted(), new RunEvent.RunWaiting("input"));

    List<Lease> renewed = store.renew("w1", LONG);

    assertThat(renewed).extracting(Lease::runId).containsExactly(a.id);
    assertThat(renewed.getFirst().epoch()).isEqualTo(1);
    assertThat(renewed.getFirst().expiresAt()).isAfter(store.now().plusSeconds(20));
    elapse(PAST_SHORT);
    assertThat(store.claim("w2", LONG, 10)).isEmpty();
    a.lease = renewed.getFirst();
    a.write(new RunEvent.RunStarted());
    assertThat(store.renew("nobody", LONG)).isEmpty();

    Handle c = create().claim("w3", SHORT);
    elapse(PAST_SHORT);
    assertThat(store.renew("w3", LONG)).isEmpty();
    assertThat(c.lease.epoch()).isEqualTo(1);
  }

  @Test
  void nowIsTheStoresClockNearTheWallClock() {
    Instant now = store.now();
    assertThat(Duration.between(now, Instant.now()).abs()).isLessThan(Duration.ofMinutes(5));
  }
}
