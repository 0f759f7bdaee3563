package dev.keel.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.run.RunStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The HTTP meters count and time requests, and read run counts once per second at most. */
class HttpMetersTest {
  @Test
  void requestsAreCountedAndTimedPerRouteAndStatus() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    HttpMeters m = new HttpMeters(registry, () -> 2, Map::of, System::nanoTime);
    m.answered("POST", "/v1/runs", 201, 3_000_000);
    m.answered("POST", "/v1/runs", 201, 5_000_000);
    m.answered("GET", "/v1/runs/{id}", 404, 1_000_000);

    assertThat(
            registry
                .get("keel.http.requests")
                .tags("method", "POST", "route", "/v1/runs", "status", "201")
                .counter()
                .count())
        .isEqualTo(2.0);
    var timer =
        registry
            .get("keel.http.request")
            .tags("method", "POST", "route", "/v1/runs", "status", "201")
            .timer();
    assertThat(timer.count()).isEqualTo(2);
    assertThat(timer.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(8.0);
    assertThat(registry.get("keel.http.requests").tag("status", "404").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("keel.sse.streams.open").gauge().value()).isEqualTo(2.0);
  }

  @Test
  void runCountsAreReadOnceForEveryStatusAndKeptForASecond() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AtomicInteger reads = new AtomicInteger();
    AtomicLong nanos = new AtomicLong();
    new HttpMeters(
        registry,
        () -> 0,
        () -> {
          reads.incrementAndGet();
          return Map.of(RunStatus.WAITING, 3L, RunStatus.COMPLETED, 7L);
        },
        nanos::get);

    assertThat(registry.get("keel.runs").tag("status", "waiting").gauge().value()).isEqualTo(3.0);
    assertThat(registry.get("keel.runs").tag("status", "completed").gauge().value()).isEqualTo(7.0);
    assertThat(registry.get("keel.runs").tag("status", "failed").gauge().value()).isZero();
    assertThat(reads).hasValue(1);

    nanos.addAndGet(1_000_000_000L);
    assertThat(registry.get("keel.runs").tag("status", "waiting").gauge().value()).isEqualTo(3.0);
    assertThat(reads).hasValue(2);
  }
}
