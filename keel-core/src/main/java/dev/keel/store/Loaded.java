package dev.keel.store;

import dev.keel.run.EventEnvelope;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a worker needs to resume a run: the newest checkpoint and the events after it.
 *
 * @param checkpoint the newest checkpoint, if any
 * @param events the events after the checkpoint (all events when there is none), in order
 */
public record Loaded(Optional<Checkpoint> checkpoint, List<EventEnvelope> events) {
  /** Copies the events. */
  public Loaded {
    Objects.requireNonNull(checkpoint, "checkpoint");
    events = List.copyOf(events);
  }
}
