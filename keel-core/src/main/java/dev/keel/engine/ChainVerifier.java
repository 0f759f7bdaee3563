package dev.keel.engine;

import dev.keel.run.EventEnvelope;
import dev.keel.run.Hashes;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.StateCodec;
import dev.keel.store.Checkpoint;
import dev.keel.store.RunStore;
import java.util.ArrayList;
import java.util.List;

/**
 * Verifies a run's history is the one that was written: the log is dense, every stored event hash
 * recomputes from the event and the one before it, and every checkpoint is the fold of the events
 * it covers and chains to the previous checkpoint. An edited, deleted, inserted or reordered event,
 * or a rewritten checkpoint, is reported with where it was found.
 */
public final class ChainVerifier {
  private ChainVerifier() {}

  /** The problems found in {@code runId}'s history; empty when it verifies. */
  public static List<String> verify(RunStore store, RunId runId) {
    List<String> problems = new ArrayList<>();
    List<EventEnvelope> events = store.events(runId, 0, Integer.MAX_VALUE);
    List<String> hashes = store.eventHashes(runId);
    if (events.isEmpty()) {
      problems.add(runId + ": no events");
      return problems;
    }
    if (hashes.size() != events.size()) {
      problems.add(
          runId + ": " + events.size() + " events but " + hashes.size() + " stored hashes");
    }
    String chain = Hashes.GENESIS;
    List<String> chainAt = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      EventEnvelope e = events.get(i);
      if (e.seq() != i + 1) {
        problems.add(
            runId
                + ": expected seq "
                + (i + 1)
                + " but found "
                + e.seq()
                + " (an event is missing or inserted)");
        return problems;
      }
      chain = Hashes.chain(chain, e);
      chainAt.add(chain);
      if (i < hashes.size() && !hashes.get(i).equals(chain)) {
        problems.add(
            runId
                + ": event "
                + e.seq()
                + " ("
                + e.event().type()
                + ") does not match its stored hash: edited");
        return problems;
      }
    }
    String previous = Hashes.GENESIS;
    for (Checkpoint cp : store.checkpoints(runId)) {
      if (cp.throughSeq() < 1 || cp.throughSeq() > events.size()) {
        problems.add(
            runId
                + ": checkpoint at step "
                + cp.step()
                + " covers seq "
                + cp.throughSeq()
                + ", beyond the log");
        continue;
      }
      if (!cp.previousHash().equals(previous)) {
        problems.add(
            runId
                + ": checkpoint at step "
                + cp.step()
                + " does not chain to the previous checkpoint");
      }
      String stateHash = Hashes.of(StateCodec.toJson(cp.state()));
      String expected =
          Hashes.checkpoint(previous, chainAt.get((int) cp.throughSeq() - 1), stateHash);
      if (!stateHash.equals(cp.stateHash()) || !expected.equals(cp.hash())) {
        problems.add(runId + ": checkpoint at step " + cp.step() + " does not verify: rewritten");
      }
      RunState folded = RunState.fold(events.subList(0, (int) cp.throughSeq()));
      if (!StateCodec.toJson(folded).equals(StateCodec.toJson(cp.state()))) {
        problems.add(
            runId
                + ": checkpoint at step "
                + cp.step()
                + " is not the fold of events 1.."
                + cp.throughSeq());
      }
      previous = cp.hash();
    }
    return problems;
  }

  /**
   * Verifies every run in {@code store}: each run's chains, and that its log ends where the run's
   * row says it does (so a deleted last event is found too). Returns the problems by run; a run
   * that verifies is absent.
   */
  public static java.util.Map<RunId, List<String>> verifyAll(RunStore store) {
    java.util.Map<RunId, List<String>> out = new java.util.LinkedHashMap<>();
    for (dev.keel.store.RunRow row : store.rows()) {
      List<String> problems = new ArrayList<>(verify(store, row.runId()));
      List<EventEnvelope> events = store.events(row.runId(), 0, Integer.MAX_VALUE);
      long last = events.isEmpty() ? 0 : events.getLast().seq();
      if (problems.isEmpty() && last != row.lastSeq()) {
        problems.add(
            row.runId()
                + ": the run's row says its last event is seq "
                + row.lastSeq()
                + " but the log ends at seq "
                + last
                + " (events were deleted)");
      }
      if (!problems.isEmpty()) {
        out.put(row.runId(), problems);
      }
    }
    return out;
  }
}
