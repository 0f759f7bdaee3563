package dev.keel.observe;

import dev.keel.engine.EngineObserver;
import dev.keel.redact.Redaction;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.registry.otlp.AggregationTemporality;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The observability a process runs with: a Prometheus registry always, OTLP/HTTP export of traces
 * and metrics when an endpoint is configured, and the engine observer feeding them. Every meter is
 * registered once in a composite registry that forwards it to the Prometheus registry (scraped on
 * {@code /metrics}) and, when exporting, to Micrometer's OTLP registry, which pushes every {@code
 * metricsStep} to {@code <endpoint>/v1/metrics} (decision 0054). Close it to flush spans and
 * metrics.
 */
public final class Telemetry implements AutoCloseable {
  /** How often metrics are pushed over OTLP unless configured otherwise. */
  public static final Duration DEFAULT_METRICS_STEP = Duration.ofSeconds(60);

  private final PrometheusMeterRegistry prometheus;
  private final CompositeMeterRegistry registry;
  private final Optional<OtlpMeterRegistry> otlpMetrics;
  private final Optional<SdkTracerProvider> tracing;
  private final EngineObserver observer;

  private Telemetry(
      PrometheusMeterRegistry prometheus,
      CompositeMeterRegistry registry,
      Optional<OtlpMeterRegistry> otlpMetrics,
      Optional<SdkTracerProvider> tracing,
      EngineObserver observer) {
    this.prometheus = prometheus;
    this.registry = registry;
    this.otlpMetrics = otlpMetrics;
    this.tracing = tracing;
    this.observer = observer;
  }

  /**
   * Telemetry exporting traces and metrics (every minute) to {@code otlpEndpoint} when present.
   *
   * @throws IllegalArgumentException naming the endpoint if it is not an http(s) URL
   */
  public static Telemetry create(
      Optional<String> otlpEndpoint, String serviceName, Redaction redaction) {
    return create(otlpEndpoint, DEFAULT_METRICS_STEP, serviceName, redaction);
  }

  /**
   * Telemetry exporting traces and metrics to {@code otlpEndpoint} (a base such as {@code
   * http://collector:4318}, or a full {@code .../v1/traces} address whose base is used for {@code
   * /v1/metrics}) when present; metrics are pushed every {@code metricsStep}.
   *
   * @throws IllegalArgumentException naming the endpoint if it is not an http(s) URL, or the step
   *     if it is not positive
   */
  public static Telemetry create(
      Optional<String> otlpEndpoint,
      Duration metricsStep,
      String serviceName,
      Redaction redaction) {
    if (metricsStep.isNegative() || metricsStep.isZero()) {
      throw new IllegalArgumentException(
          "telemetry.otlp_metrics_interval must be positive, got " + metricsStep);
    }
    Optional<String> base = otlpEndpoint.map(Telemetry::base);
    return build(
        base.map(b -> exporter(b + "/v1/traces")),
        base.map(b -> otlpMetrics(b + "/v1/metrics", metricsStep, serviceName)),
        serviceName,
        redaction);
  }

  /** Telemetry exporting traces with {@code exporter}, when present (tests pass their own). */
  public static Telemetry exporting(
      Optional<SpanExporter> exporter, String serviceName, Redaction redaction) {
    return build(exporter, Optional.empty(), serviceName, redaction);
  }

  private static Telemetry build(
      Optional<SpanExporter> exporter,
      Optional<OtlpMeterRegistry> otlpMetrics,
      String serviceName,
      Redaction redaction) {
    Function<String, String> providerOf = GenAi::provider;
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CompositeMeterRegistry registry = new CompositeMeterRegistry();
    registry.add(prometheus);
    otlpMetrics.ifPresent(registry::add);
    List<EngineObserver> observers = new ArrayList<>();
    observers.add(new LogContextObserver());
    observers.add(new MetricsObserver(registry, providerOf));
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
    return new Telemetry(prometheus, registry, otlpMetrics, tracing, Observers.of(observers));
  }

  /**
   * Micrometer's OTLP registry pushing cumulative sums and histograms, in seconds, to {@code url}.
   */
  static OtlpMeterRegistry otlpMetrics(String url, Duration step, String serviceName) {
    OtlpConfig config =
        new OtlpConfig() {
          @Override
          public @org.jspecify.annotations.Nullable String get(String key) {
            return null; // every setting below; nothing from system properties
          }

          @Override
          public String url() {
            return url;
          }

          @Override
          public Duration step() {
            return step;
          }

          @Override
          public Map<String, String> resourceAttributes() {
            return Map.of("service.name", serviceName);
          }

          @Override
          public AggregationTemporality aggregationTemporality() {
            return AggregationTemporality.CUMULATIVE;
          }

          @Override
          public TimeUnit baseTimeUnit() {
            return TimeUnit.SECONDS;
          }
        };
    return new OtlpMeterRegistry(config, Clock.SYSTEM);
  }

  /**
   * The OTLP/HTTP base of {@code endpoint}: itself without a trailing slash, or without {@code
   * /v1/traces} when that is given.
   *
   * @throws IllegalArgumentException naming the endpoint if it is not an http(s) URL
   */
  static String base(String endpoint) {
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
    String s = uri.toString().replaceAll("/+$", "");
    return s.endsWith("/v1/traces") ? s.substring(0, s.length() - "/v1/traces".length()) : s;
  }

  static SpanExporter exporter(String traces) {
    return OtlpHttpSpanExporter.builder()
        .setEndpoint(traces)
        .setTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** The engine observer feeding metrics, logs' context and (when configured) traces. */
  public EngineObserver observer() {
    return observer;
  }

  /** The metrics registry: a meter registered here is scraped and, when exporting, pushed. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The metrics in the Prometheus text format. */
  public String scrape() {
    return prometheus.scrape();
  }

  /** True if metrics are pushed over OTLP. */
  public boolean exportingMetrics() {
    return otlpMetrics.isPresent();
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
    // closing the OTLP registry pushes the last values before it stops
    otlpMetrics.ifPresent(OtlpMeterRegistry::close);
    registry.close();
    prometheus.close();
  }
}
