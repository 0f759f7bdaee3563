package dev.keel.store;

import dev.keel.run.EventEnvelope;
import java.util.Objects;

/**
 * An event as stored: the envelope and the chain hash through it.
 *
 * @param envelope the event and where it stands
 * @param hash SHA-256 chain hash through this event ({@link dev.keel.run.Hashes#chain})
 */
public record RecordedEvent(EventEnvelope envelope, String hash) {
  /** Checks both fields are present. */
  public RecordedEvent {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(hash, "hash");
  }
}
