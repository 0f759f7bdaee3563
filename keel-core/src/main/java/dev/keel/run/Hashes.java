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

  private Hashes() {}

  /** SHA-256 of the UTF-8 text, in lower-case hex. */
  public static String sha256(String text) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** SHA-256 of a JSON value's canonical form; binds an approval to exact arguments. */
  public static String of(JsonValue value) {
    return sha256(value.toString());
  }

  /** The chain hash after {@code envelope}, given the hash before it. */
  public static String chain(String previous, EventEnvelope envelope) {
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
            + EventCodec.encode(envelope.event()));
  }

  /** The hash of a checkpoint, chained to the previous checkpoint's. */
  public static String checkpoint(String previousCheckpoint, String eventChain, String stateHash) {
    return sha256(previousCheckpoint + '\n' + eventChain + '\n' + stateHash);
  }
}
