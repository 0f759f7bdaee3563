package dev.keel.run;

import dev.keel.json.JsonValue;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers for the event chain, checkpoints and approval bindings. */
public final class Hashes {
  /** The chain's starting hash, before any event. */
  public static final String GENESIS = "0".repeat(64);

  private static final HexFormat HEX = HexFormat.of();

  private static final MessageDigest SHA_256 = prototype();

  private Hashes() {}

  private static MessageDigest prototype() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** A fresh SHA-256 digest, for text hashed in pieces. */
  public static MessageDigest sha256Digest() {
    try {
      return (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      return prototype();
    }
  }

  /** {@code bytes} in lower-case hex, as every hash here is written. */
  public static String hex(byte[] bytes) {
    return HEX.formatHex(bytes);
  }

  /** SHA-256 of the UTF-8 text, in lower-case hex. */
  public static String sha256(String text) {
    return HEX.formatHex(sha256Digest().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** SHA-256 of a JSON value's canonical form; binds an approval to exact arguments. */
  public static String of(JsonValue value) {
    return sha256(value.toString());
  }

  /** The chain hash after {@code envelope}, given the hash before it. */
  public static String chain(String previous, EventEnvelope envelope) {
    return chain(previous, envelope, EventCodec.encode(envelope.event()));
  }

  /**
   * The chain hash after {@code envelope}, given the hash before it and the event's payload as
   * {@link EventCodec#encode} gives it (passed in so a caller that stores the payload encodes it
   * once).
   */
  public static String chain(String previous, EventEnvelope envelope, String payload) {
    return sha256(
        previous
            + '\n'
            + envelope.seq()
            + '\n'
            + envelope.at()
            + '\n'
            + envelope.epoch()
            + '\n'
            + envelope.event().type()
            + '\n'
            + payload);
  }

  /** The hash of a checkpoint, chained to the previous checkpoint's. */
  public static String checkpoint(String previousCheckpoint, String eventChain, String stateHash) {
    return sha256(previousCheckpoint + '\n' + eventChain + '\n' + stateHash);
  }
}
