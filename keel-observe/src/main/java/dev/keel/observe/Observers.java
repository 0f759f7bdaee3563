package dev.keel.observe;

import dev.keel.engine.EngineObserver;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunState;
import java.util.List;

/** Several observers heard in order; one that throws does not stop the others. */
public final class Observers implements EngineObserver {
  private final List<EngineObserver> all;

  private Observers(List<EngineObserver> all) {
    this.all = List.copyOf(all);
  }

  /** All of {@code observers}, in order. */
  public static EngineObserver of(List<EngineObserver> observers) {
    return observers.size() == 1 ? observers.getFirst() : new Observers(observers);
  }

  private void each(java.util.function.Consumer<EngineObserver> call) {
    for (EngineObserver o : all) {
      try {
        call.accept(o);
      } catch (RuntimeException ignored) {
        // an observer's failure is its own
      }
    }
  }

  @Override
  public void executionStarted(RunState state, String workerId, long epoch) {
    each(o -> o.executionStarted(state, workerId, epoch));
  }

  @Override
  public void executionQueued(RunState state, java.time.Duration waited) {
    each(o -> o.executionQueued(state, waited));
  }

  @Override
  public void executionEnded(RunState state, String how) {
    each(o -> o.executionEnded(state, how));
  }

  @Override
  public void modelCalled(RunState state, ModelCall call) {
    each(o -> o.modelCalled(state, call));
  }

  @Override
  public void toolInvoked(RunState state, ToolCall call) {
    each(o -> o.toolInvoked(state, call));
  }

  @Override
  public void checkpointWritten(RunState state, int step, long nanos) {
    each(o -> o.checkpointWritten(state, step, nanos));
  }

  @Override
  public void committed(RunState state, List<EventEnvelope> events, long nanos) {
    each(o -> o.committed(state, events, nanos));
  }
}
