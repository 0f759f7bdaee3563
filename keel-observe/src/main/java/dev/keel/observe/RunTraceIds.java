package dev.keel.observe;

import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One trace per run: the trace id is derived from the run id (the first 16 bytes of SHA-256 of
 * {@code keel-run:<id>}), so every execution of a run, on any worker, after any crash, lands in the
 * same trace without storing anything (decision 0050). The {@code invoke_agent} span of the
 * execution holding lease epoch {@code n} has a span id derived the same way from run and epoch
 * ({@link #agentSpan}), so the next execution can link to it even when the process that ran it was
 * killed before the span ended. Root spans created while {@link #use} is in effect get those ids;
 * every other id is random.
 */
public final class RunTraceIds implements IdGenerator {
  private static final ThreadLocal<String> NEXT = new ThreadLocal<>();
  private static final ThreadLocal<String> NEXT_SPAN = new ThreadLocal<>();

  /** The trace id of run {@code runId}: 32 lower-case hex digits, never all zero. */
  public static String of(String runId) {
    String id = hex("keel-run:" + runId, 16);
    return TraceId.isValid(id) ? id : "0000000000000000000000000000000" + "1";
  }

  /**
   * The span id of the {@code invoke_agent} span of run {@code runId}'s execution under lease epoch
   * {@code epoch}: 16 lower-case hex digits, never all zero.
   */
  public static String agentSpan(String runId, long epoch) {
    String id = hex("keel-run:" + runId + ":epoch:" + epoch, 8);
    return SpanId.isValid(id) ? id : "000000000000000" + "1";
  }

  private static String hex(String seed, int bytes) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder(2 * bytes);
      for (int i = 0; i < bytes; i++) {
        sb.append(Character.forDigit((h[i] >> 4) & 0xf, 16))
            .append(Character.forDigit(h[i] & 0xf, 16));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException x) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", x);
    }
  }

  /** Makes the next root span created on this thread belong to run {@code runId}'s trace. */
  static void use(String runId) {
    NEXT.set(of(runId));
  }

  /**
   * Makes the next root span created on this thread the agent span of run {@code runId} under lease
   * epoch {@code epoch}.
   */
  static void use(String runId, long epoch) {
    NEXT.set(of(runId));
    NEXT_SPAN.set(agentSpan(runId, epoch));
  }

  /** Ends the effect of {@link #use}. */
  static void clear() {
    NEXT.remove();
    NEXT_SPAN.remove();
  }

  @Override
  public String generateSpanId() {
    String id = NEXT_SPAN.get();
    if (id != null) {
      NEXT_SPAN.remove(); // one span only: its children get random ids
      return id;
    }
    return IdGenerator.random().generateSpanId();
  }

  @Override
  public String generateTraceId() {
    String id = NEXT.get();
    return id != null ? id : IdGenerator.random().generateTraceId();
  }
}
