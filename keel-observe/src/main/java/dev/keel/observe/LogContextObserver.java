package dev.keel.observe;

import dev.keel.engine.EngineObserver;
import dev.keel.run.RunState;
import org.slf4j.MDC;

/**
 * Puts the run id, its trace id and its tenant in the logging context (MDC) of the execution's
 * thread while it holds the run, so every log line it writes names them.
 */
public final class LogContextObserver implements EngineObserver {
  /** MDC keys. */
  public static final String RUN_ID = "run_id";

  /** MDC key of the trace id. */
  public static final String TRACE_ID = "trace_id";

  /** MDC key of the tenant. */
  public static final String TENANT = "tenant";

  /** MDC key of the HTTP request id. */
  public static final String REQUEST_ID = "request_id";

  @Override
  public void executionStarted(RunState state, String workerId, long epoch) {
    MDC.put(RUN_ID, state.runId().value());
    MDC.put(TRACE_ID, RunTraceIds.of(state.runId().value()));
    MDC.put(TENANT, state.header().tenant());
  }

  @Override
  public void executionEnded(RunState state, String how) {
    MDC.remove(RUN_ID);
    MDC.remove(TRACE_ID);
    MDC.remove(TENANT);
  }
}
