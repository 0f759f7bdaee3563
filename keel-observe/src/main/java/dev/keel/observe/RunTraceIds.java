package dev.keel.observe;

import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One trace per run: the trace id is derived from the run id (the first 16 bytes of SHA-256 of
 * {@code keel-run:<id>}), so every execution of a run, on any worker, after any crash, lands in the
 * same trace without storing anything (decision 0050). Root spans created while {@link #use} is in
 * effect get that trace id; every other id is random.
 */
public final class RunTraceIds implements IdGenerator {
  private static final ThreadLocal<String> NEXT = new ThreadLocal<>();

  /** The trace id of run {@code runId}: 32 lower-case hex digits, never all zero. */
  public static String of(String runId) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest(("keel-run:" + runId).getBytes(StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder(32);
      for (int i = 0; i < 16; i++) {
        sb.append(Character.forDigit((h[i] >> 4) & 0xf, 16))
            .append(Character.forDigit(h[i] & 0xf, 16));
      }
      String id = sb.toString();
      return TraceId.isValid(id) ? id : "0000000000000000000000000000000" + "1";
    } catch (NoSuchAlgorithmException x) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", x);
    }
  }

  /** Makes the next root span created on this thread belong to run {@code runId}'s trace. */
  static void use(String runId) {
    NEXT.set(of(runId));
  }

  /** Ends the effect of {@link #use}. */
  static void clear() {
    NEXT.remove();
  }

  @Override
  public String generateSpanId() {
    return IdGenerator.random().generateSpanId();
  }

  @Override
  public String generateTraceId() {
    String id = NEXT.get();
    return id != null ? id : IdGenerator.random().generateTraceId();
  }
}
