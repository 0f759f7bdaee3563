package dev.keel.observe;

import dev.keel.engine.EngineObserver;
import dev.keel.redact.Redaction;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The observability a process runs with: a Prometheus registry always, OTLP/HTTP trace export when
 * an endpoint is configured, and the engine observer feeding them. Close it to flush spans.
 */
public final class Telemetry implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final Optional<SdkTracerProvider> tracing;
  private final EngineObserver observer;

  private Telemetry(
      PrometheusMeterRegistry registry,
      Optional<SdkTracerProvider> tracing,
      EngineObserver observer) {
    this.registry = registry;
    this.tracing = tracing;
    this.observer = observer;
  }

  /**
   * Telemetry exporting traces to {@code otlpEndpoint} (a base such as {@code
   * http://collector:4318}, or a full {@code .../v1/traces} address) when present.
   *
   * @throws IllegalArgumentException naming the endpoint if it is not an http(s) URL
   */
  public static Telemetry create(
      Optional<String> otlpEndpoint, String serviceName, Redaction redaction) {
    return exporting(otlpEndpoint.map(Telemetry::exporter), serviceName, redaction);
  }

  /** Telemetry exporting traces with {@code exporter}, when present (tests pass their own). */
  public static Telemetry exporting(
      Optional<SpanExporter> exporter, String serviceName, Redaction redaction) {
    Function<String, String> providerOf = GenAi::provider;
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<EngineObserver> observers = new ArrayList<>();
    observers.add(new LogContextObserver());
    observers.add(new MetricsObserver(registry, InstantSource.system(), providerOf));
    Optional<SdkTracerProvider> tracing =
        exporter.map(
            e ->
                SdkTracerProvider.builder()
                    .setIdGenerator(new RunTraceIds())
                    .setResource(
                        Resource.getDefault()
                            .merge(
                                Resource.create(
                                    Attributes.of(
                                        AttributeKey.stringKey("service.name"), serviceName))))
                    .addSpanProcessor(
                        BatchSpanProcessor.builder(e)
                            .setScheduleDelay(Duration.ofMillis(500))
                            .build())
                    .build());
    tracing.ifPresent(
        p -> observers.add(new TracingObserver(p.get("dev.keel.engine"), redaction, providerOf)));
    return new Telemetry(registry, tracing, Observers.of(observers));
  }

  static SpanExporter exporter(String endpoint) {
    URI uri;
    try {
      uri = URI.create(endpoint.trim());
    } catch (IllegalArgumentException x) {
      throw new IllegalArgumentException(
          "telemetry.otlp_endpoint is not a URL: '" + endpoint + "'", x);
    }
    if (uri.getScheme() == null
        || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
        || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "telemetry.otlp_endpoint must be an http(s) URL such as http://localhost:4318, got '"
              + endpoint
              + "'");
    }
    String s = uri.toString();
    String traces = s.endsWith("/v1/traces") ? s : s.replaceAll("/+$", "") + "/v1/traces";
    return OtlpHttpSpanExporter.builder()
        .setEndpoint(traces)
        .setTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** The engine observer feeding metrics, logs' context and (when configured) traces. */
  public EngineObserver observer() {
    return observer;
  }

  /** The metrics registry. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The metrics in the Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** True if traces are exported. */
  public boolean tracing() {
    return tracing.isPresent();
  }

  /** Sends spans not yet exported; waits up to {@code timeout}. */
  public void flush(Duration timeout) {
    tracing.ifPresent(p -> p.forceFlush().join(timeout.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Override
  public void close() {
    tracing.ifPresent(p -> p.shutdown().join(10, TimeUnit.SECONDS));
    registry.close();
  }
}
