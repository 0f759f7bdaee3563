package dev.keel.testkit;

import dev.keel.engine.ChainVerifier;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.LedgerEntry;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a whole store and lists every broken promise: gaps or repeats in a log, epochs going
 * backwards, an event chain or checkpoint chain that does not verify, a checkpoint that is not the
 * fold of its events, a run row that disagrees with its log, a non-terminal run nobody can claim,
 * an idempotency key used by two calls.
 */
public final class InvariantChecker {
  private InvariantChecker() {}

  /** Every violation found in {@code store}; empty when all promises hold. */
  public static List<String> check(RunStore store) {
    List<String> out = new ArrayList<>();
    Map<String, String> keys = new HashMap<>();
    Instant now = store.now();
    for (RunRow row : store.rows()) {
      String run = row.runId().value();
      List<EventEnvelope> events = store.events(row.runId(), 0, Integer.MAX_VALUE);
      if (events.isEmpty()) {
        out.add(run + ": has a row but no events");
        continue;
      }
      long epoch = 0;
      for (EventEnvelope e : events) {
        if (e.epoch() < epoch) {
          out.add(
              run + ": epoch goes back from " + epoch + " to " + e.epoch() + " at seq " + e.seq());
        }
        epoch = e.epoch();
      }
      // Dense sequences, the event chain and the checkpoint chain: the production verifier, first,
      // so an edited event is reported even when the log no longer folds.
      try {
        out.addAll(ChainVerifier.verify(store, row.runId()));
      } catch (RuntimeException x) {
        out.add(run + ": history does not verify: " + x.getMessage());
      }
      RunState folded;
      try {
        folded = RunState.fold(events);
      } catch (RuntimeException x) {
        out.add(run + ": log does not fold: " + x.getMessage());
        continue;
      }
      if (folded.status() != row.status()) {
        out.add(run + ": row status " + row.status() + " but the log folds to " + folded.status());
      }
      if (row.lastSeq() != events.size()) {
        out.add(run + ": row last_seq " + row.lastSeq() + " but the log has " + events.size());
      }
      if (!row.status().terminal()) {
        boolean leased =
            row.leaseExpiresAt().isPresent() && row.leaseExpiresAt().get().isAfter(now);
        boolean claimable = row.readyAt().isPresent();
        boolean parked =
            row.status() == RunStatus.PAUSED
                || (row.status() == RunStatus.WAITING && !folded.approvals().isEmpty());
        if (!leased && !claimable && !parked) {
          out.add(run + ": " + row.status().wire() + " with no lease and no wake-up: stuck");
        }
      }
      // Sub-agents: each call spawns and finishes at most once, and a child is always one its
      // parent recorded (no orphan children).
      java.util.Set<String> spawned = new java.util.HashSet<>();
      java.util.Set<String> finished = new java.util.HashSet<>();
      for (EventEnvelope e : events) {
        if (e.event() instanceof dev.keel.run.RunEvent.SubrunSpawned x
            && !spawned.add(x.callId())) {
          out.add(run + ": call " + x.callId() + " spawned more than one sub-agent run");
        }
        if (e.event() instanceof dev.keel.run.RunEvent.SubrunFinished x
            && !finished.add(x.callId())) {
          out.add(run + ": sub-agent of call " + x.callId() + " finished more than once");
        }
      }
      if (folded.header().parentRunId().isPresent()
          && folded.header().metadata().string("parent_call_id").isPresent()) {
        String parent = folded.header().parentRunId().get();
        boolean known =
            store.events(dev.keel.run.RunId.of(parent), 0, Integer.MAX_VALUE).stream()
                .anyMatch(
                    e ->
                        e.event() instanceof dev.keel.run.RunEvent.SubrunSpawned x
                            && x.childRunId().equals(run));
        if (!known) {
          out.add(run + ": a sub-agent run its parent " + parent + " never spawned");
        }
      }
      for (LedgerEntry l : store.ledger(row.runId())) {
        String k = l.tool() + " " + l.idempotencyKey();
        String owner = keys.putIfAbsent(k, run + "/" + l.callId());
        if (owner != null) {
          out.add(run + ": idempotency key " + k + " also used by " + owner);
        }
      }
    }
    return out;
  }
}
