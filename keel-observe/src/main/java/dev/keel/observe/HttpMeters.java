package dev.keel.observe;

import dev.keel.run.RunStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The HTTP server's meters, registered in the same registry as the engine's, so they are scraped on
 * {@code /metrics} and pushed over OTLP alike: {@code keel.http.requests{method,route,status}} (a
 * counter), {@code keel.http.request{method,route,status}} (a latency histogram), {@code
 * keel.sse.streams.open} and {@code keel.runs{status}} (gauges). Prometheus renders them {@code
 * keel_http_requests_total}, {@code keel_http_request_seconds_*}, {@code keel_sse_streams_open} and
 * {@code keel_runs}.
 *
 * <p>Implementation notes: the gauges hold their suppliers strongly (Micrometer's default is a weak
 * reference, and a method reference held by nothing else reads NaN after a collection). The run
 * counts come from one read of the store for all statuses, kept for a second, since a scrape or a
 * push asks each status's gauge in turn.
 */
public final class HttpMeters {
  private static final Duration RUN_COUNTS_TTL = Duration.ofSeconds(1);

  private final MeterRegistry registry;
  private final Supplier<Map<RunStatus, Long>> runsByStatus;
  private final LongSupplier nanoTime;
  private final ReentrantLock lock = new ReentrantLock();
  private Map<RunStatus, Long> counts = Map.of();
  private long countedAt;
  private boolean counted;

  /**
   * Registers the gauges in {@code registry}.
   *
   * @param registry where the meters go
   * @param openStreams event streams open now
   * @param runsByStatus the deployment's runs per status (every tenant)
   * @param nanoTime a monotonic clock, for how long run counts are kept
   */
  public HttpMeters(
      MeterRegistry registry,
      IntSupplier openStreams,
      Supplier<Map<RunStatus, Long>> runsByStatus,
      LongSupplier nanoTime) {
    this.registry = registry;
    this.runsByStatus = runsByStatus;
    this.nanoTime = nanoTime;
    Gauge.builder("keel.sse.streams.open", openStreams, s -> s.getAsInt())
        .description("Event streams open now")
        .strongReference(true)
        .register(registry);
    for (RunStatus s : RunStatus.values()) {
      Gauge.builder("keel.runs", this, m -> m.runs(s))
          .description("Runs in the store by status")
          .tag("status", s.wire())
          .strongReference(true)
          .register(registry);
    }
  }

  /** Counts and times one answered request; the signature of the server's request meter. */
  public void answered(String method, String route, int status, long nanos) {
    String code = Integer.toString(status);
    Counter.builder("keel.http.requests")
        .description("HTTP requests answered")
        .tags("method", method, "route", route, "status", code)
        .register(registry)
        .increment();
    Timer.builder("keel.http.request")
        .description("Time spent answering HTTP requests (an event stream's whole life)")
        .tags("method", method, "route", route, "status", code)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofMinutes(5))
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  private double runs(RunStatus s) {
    lock.lock();
    try {
      long now = nanoTime.getAsLong();
      if (!counted || now - countedAt >= RUN_COUNTS_TTL.toNanos()) {
        Map<RunStatus, Long> fresh = new EnumMap<>(RunStatus.class);
        fresh.putAll(runsByStatus.get());
        counts = fresh;
        countedAt = now;
        counted = true;
      }
      return counts.getOrDefault(s, 0L);
    } finally {
      lock.unlock();
    }
  }
}
