package dev.keel.server;

import dev.keel.run.RunStatus;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A small hand-written Prometheus text exposition of request and run counts, for a server used
 * without a metrics registry; with one ({@link ApiServer#withRequestMeter}) it renders nothing and
 * only counts open streams.
 */
final class Metrics {
  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> durationMicros = new ConcurrentHashMap<>();
  final AtomicInteger openStreams = new AtomicInteger();
  volatile boolean renderOwn = true;

  void record(String method, String route, int status, long nanos) {
    String labels = "method=\"" + method + "\",route=\"" + route + "\",status=\"" + status + "\"";
    requests.computeIfAbsent(labels, k -> new LongAdder()).increment();
    durationMicros
        .computeIfAbsent("method=\"" + method + "\",route=\"" + route + "\"", k -> new LongAdder())
        .add(nanos / 1000);
  }

  String render(RunStore store) {
    if (!renderOwn) {
      return "";
    }
    StringBuilder out = new StringBuilder(1024);
    out.append("# HELP keel_http_requests_total HTTP requests answered.\n");
    out.append("# TYPE keel_http_requests_total counter\n");
    new TreeMap<>(requests)
        .forEach(
            (k, v) ->
                out.append("keel_http_requests_total{")
                    .append(k)
                    .append("} ")
                    .append(v.sum())
                    .append('\n'));
    out.append("# HELP keel_http_request_seconds_sum Time spent answering requests.\n");
    out.append("# TYPE keel_http_request_seconds_sum counter\n");
    new TreeMap<>(durationMicros)
        .forEach(
            (k, v) ->
                out.append("keel_http_request_seconds_sum{")
                    .append(k)
                    .append("} ")
                    .append(v.sum() / 1e6)
                    .append('\n'));
    out.append("# HELP keel_sse_streams_open Event streams open now.\n");
    out.append("# TYPE keel_sse_streams_open gauge\n");
    out.append("keel_sse_streams_open ").append(openStreams.get()).append('\n');
    Map<RunStatus, Integer> byStatus = new EnumMap<>(RunStatus.class);
    for (RunStatus s : RunStatus.values()) {
      byStatus.put(s, 0);
    }
    // Deployment-wide counts, also when scraped with a tenant's key (decision 0043).
    try (dev.keel.store.TenantScope.Entered all = dev.keel.store.TenantScope.enterEveryTenant()) {
      for (RunRow r : store.rows()) {
        byStatus.merge(r.status(), 1, Integer::sum);
      }
    }
    out.append("# HELP keel_runs Runs in the store by status.\n");
    out.append("# TYPE keel_runs gauge\n");
    byStatus.forEach(
        (s, n) ->
            out.append("keel_runs{status=\"")
                .append(s.wire())
                .append("\"} ")
                .append(n)
                .append('\n'));
    return out.toString();
  }
}
