package dev.keel.store;

import dev.keel.run.EventCodec;
import dev.keel.run.EventEnvelope;
import java.util.Objects;

/**
 * An event as stored: the envelope and the chain hash through it.
 *
 * <p>It also carries the event's canonical JSON payload ({@link EventCodec#encode}), the very text
 * its chain hash was computed over, so a store writes those bytes instead of encoding the event a
 * second time. Two recorded events are equal when their envelopes and hashes are; the payload is
 * derived from the envelope.
 */
public final class RecordedEvent {
  private final EventEnvelope envelope;
  private final String hash;
  private volatile String payload;

  /**
   * An event as stored; its payload is encoded when first asked for.
   *
   * @param envelope the event and where it stands
   * @param hash SHA-256 chain hash through this event ({@link dev.keel.run.Hashes#chain})
   */
  public RecordedEvent(EventEnvelope envelope, String hash) {
    this.envelope = Objects.requireNonNull(envelope, "envelope");
    this.hash = Objects.requireNonNull(hash, "hash");
  }

  /**
   * An event as stored, with its payload already encoded (the text its hash was computed over).
   *
   * @param envelope the event and where it stands
   * @param hash SHA-256 chain hash through this event
   * @param payload {@code EventCodec.encode(envelope.event())}
   */
  public RecordedEvent(EventEnvelope envelope, String hash, String payload) {
    this(envelope, hash);
    this.payload = Objects.requireNonNull(payload, "payload");
  }

  /** The event and where it stands. */
  public EventEnvelope envelope() {
    return envelope;
  }

  /** SHA-256 chain hash through this event. */
  public String hash() {
    return hash;
  }

  /** The event's canonical JSON payload, encoded once and kept. */
  public String payload() {
    String p = payload;
    if (p == null) {
      p = EventCodec.encode(envelope.event());
      payload = p;
    }
    return p;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RecordedEvent r && envelope.equals(r.envelope) && hash.equals(r.hash);
  }

  @Override
  public int hashCode() {
    return 31 * envelope.hashCode() + hash.hashCode();
  }

  @Override
  public String toString() {
    return "RecordedEvent[envelope=" + envelope + ", hash=" + hash + "]";
  }
}
