package dev.keel.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.store.Checkpoint;
import dev.keel.store.RunStore;
import dev.keel.testkit.ForwardingRunStore;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** An edited, deleted or rewritten history is found by the verifier and the invariant checker. */
class ChainVerifierTest {
  private static final class Tampered extends ForwardingRunStore {
    private final UnaryOperator<List<EventEnvelope>> events;
    private final UnaryOperator<List<Checkpoint>> checkpoints;

    Tampered(RunStore d, UnaryOperator<List<EventEnvelope>> e, UnaryOperator<List<Checkpoint>> c) {
      super(d);
      this.events = e;
      this.checkpoints = c;
    }

    @Override
    public List<EventEnvelope> events(RunId runId, long afterSeq, int limit) {
      return events.apply(delegate.events(runId, afterSeq, limit));
    }

    @Override
    public List<Checkpoint> checkpoints(RunId runId) {
      return checkpoints.apply(delegate.checkpoints(runId));
    }
  }

  private static Harness completedRun() throws Exception {
    Harness h =
        new Harness(
            ScriptedModel.of(ScriptedModel.loop("shop.lookup", JsonValue.object(), 4)),
            EngineTest.BUDGET,
            FaultInjector.NONE);
    h.start("look");
    h.runUntilIdle();
    return h;
  }

  @Test
  void untouchedHistoryVerifies() throws Exception {
    Harness h = completedRun();
    RunId id = h.store.rows().getFirst().runId();
    assertThat(ChainVerifier.verify(h.store, id)).isEmpty();
    assertThat(h.store.checkpoints(id)).isNotEmpty();
  }

  @Test
  void editedEventIsFound() throws Exception {
    Harness h = completedRun();
    RunId id = h.store.rows().getFirst().runId();
    RunStore edited =
        new Tampered(
            h.store,
            list -> {
              List<EventEnvelope> out = new ArrayList<>(list);
              EventEnvelope e = out.get(3);
              out.set(
                  3,
                  new EventEnvelope(
                      e.runId(), e.seq(), e.at(), e.epoch(), new RunEvent.RunWaiting("edited")));
              return out;
            },
            c -> c);
    assertThat(ChainVerifier.verify(edited, id))
        .singleElement()
        .asString()
        .contains("event 4")
        .contains("edited");
    assertThat(InvariantChecker.check(edited)).anyMatch(p -> p.contains("event 4"));
  }

  @Test
  void deletedEventIsFound() throws Exception {
    Harness h = completedRun();
    RunId id = h.store.rows().getFirst().runId();
    RunStore deleted =
        new Tampered(
            h.store,
            list -> {
              List<EventEnvelope> out = new ArrayList<>(list);
              out.remove(5);
              return out;
            },
            c -> c);
    assertThat(ChainVerifier.verify(deleted, id)).anyMatch(p -> p.contains("expected seq 6"));
    assertThat(InvariantChecker.check(deleted)).anyMatch(p -> p.contains("expected seq 6"));
  }

  @Test
  void rewrittenCheckpointIsFound() throws Exception {
    Harness h = completedRun();
    RunId id = h.store.rows().getFirst().runId();
    RunStore rewritten =
        new Tampered(
            h.store,
            e -> e,
            list -> {
              Checkpoint c = list.getFirst();
              RunState forged = RunState.fold(h.store.events(id, 0, (int) c.throughSeq() - 1));
              return List.of(
                  new Checkpoint(
                      c.runId(),
                      c.step(),
                      forged.lastSeq(),
                      forged,
                      c.stateHash(),
                      c.previousHash(),
                      c.hash()));
            });
    assertThat(ChainVerifier.verify(rewritten, id))
        .anyMatch(p -> p.contains("does not verify: rewritten"));
  }
}
