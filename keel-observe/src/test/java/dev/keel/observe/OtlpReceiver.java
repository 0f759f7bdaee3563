package dev.keel.observe;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP/HTTP receiver: the JDK HTTP server on {@code /v1/traces} and {@code /v1/metrics},
 * decoding {@code ExportTraceServiceRequest} and {@code ExportMetricsServiceRequest} protobufs with
 * the official generated classes. Keeps every span, every metric batch and every raw trace body.
 * Shared through keel-observe's test jar.
 */
public final class OtlpReceiver implements AutoCloseable {
  /** Every span received, in arrival order. */
  public final List<Span> spans = new CopyOnWriteArrayList<>();

  /** Every raw (decompressed) trace request body. */
  public final List<byte[]> bodies = new CopyOnWriteArrayList<>();

  /** The content type of every trace request. */
  public final List<String> contentTypes = new CopyOnWriteArrayList<>();

  /** Every metric received, in arrival order (one entry per metric per export). */
  public final List<Metric> metrics = new CopyOnWriteArrayList<>();

  /** The resource attributes of every metric export, in arrival order. */
  public final List<Map<String, String>> metricResources = new CopyOnWriteArrayList<>();

  private final HttpServer server;

  /** Starts listening on a free loopback port. */
  public OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/traces",
        ex ->
            handle(
                ex,
                body -> {
                  bodies.add(body);
                  contentTypes.add(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")));
                  ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(body);
                  for (ResourceSpans rs : req.getResourceSpansList()) {
                    for (ScopeSpans ss : rs.getScopeSpansList()) {
                      spans.addAll(ss.getSpansList());
                    }
                  }
                  return ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                }));
    server.createContext(
        "/v1/metrics",
        ex ->
            handle(
                ex,
                body -> {
                  ExportMetricsServiceRequest req = ExportMetricsServiceRequest.parseFrom(body);
                  for (ResourceMetrics rm : req.getResourceMetricsList()) {
                    Map<String, String> resource = new java.util.TreeMap<>();
                    for (KeyValue kv : rm.getResource().getAttributesList()) {
                      resource.put(kv.getKey(), kv.getValue().getStringValue());
                    }
                    metricResources.add(resource);
                    for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                      metrics.addAll(sm.getMetricsList());
                    }
                  }
                  return ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
                }));
    server.start();
  }

  private interface Decoder {
    byte[] accept(byte[] body) throws IOException;
  }

  private static void handle(HttpExchange ex, Decoder decoder) throws IOException {
    try (InputStream raw = ex.getRequestBody()) {
      InputStream in =
          "gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))
              ? new GZIPInputStream(raw)
              : raw;
      byte[] reply = decoder.accept(in.readAllBytes());
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, reply.length);
      ex.getResponseBody().write(reply);
    } catch (IOException | RuntimeException x) {
      ex.sendResponseHeaders(400, -1);
    } finally {
      ex.close();
    }
  }

  /** The base address, such as {@code http://127.0.0.1:4318}. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The spans whose name starts with {@code prefix}. */
  public List<Span> named(String prefix) {
    List<Span> out = new ArrayList<>();
    for (Span s : spans) {
      if (s.getName().startsWith(prefix)) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * The value of the most recently received data point of the sum (counter) {@code name} whose
   * attributes include every entry of {@code attributes}; empty if none was received yet.
   */
  public OptionalDouble latestSum(String name, Map<String, String> attributes) {
    OptionalDouble found = OptionalDouble.empty();
    for (Metric m : metrics) {
      if (!m.getName().equals(name) || !m.hasSum()) {
        continue;
      }
      for (NumberDataPoint p : m.getSum().getDataPointsList()) {
        if (matches(p.getAttributesList(), attributes)) {
          found =
              OptionalDouble.of(
                  p.getValueCase() == NumberDataPoint.ValueCase.AS_INT
                      ? p.getAsInt()
                      : p.getAsDouble());
        }
      }
    }
    return found;
  }

  /**
   * The value of the most recently received data point of the gauge {@code name} whose attributes
   * include every entry of {@code attributes}; empty if none was received yet.
   */
  public OptionalDouble latestGauge(String name, Map<String, String> attributes) {
    OptionalDouble found = OptionalDouble.empty();
    for (Metric m : metrics) {
      if (!m.getName().equals(name) || !m.hasGauge()) {
        continue;
      }
      for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
        if (matches(p.getAttributesList(), attributes)) {
          found =
              OptionalDouble.of(
                  p.getValueCase() == NumberDataPoint.ValueCase.AS_INT
                      ? p.getAsInt()
                      : p.getAsDouble());
        }
      }
    }
    return found;
  }

  /**
   * The count of the most recently received data point of the histogram {@code name} whose
   * attributes include every entry of {@code attributes}; empty if none was received yet.
   */
  public java.util.OptionalLong latestHistogramCount(String name, Map<String, String> attributes) {
    java.util.OptionalLong found = java.util.OptionalLong.empty();
    for (Metric m : metrics) {
      if (!m.getName().equals(name) || !m.hasHistogram()) {
        continue;
      }
      for (var p : m.getHistogram().getDataPointsList()) {
        if (matches(p.getAttributesList(), attributes)) {
          found = java.util.OptionalLong.of(p.getCount());
        }
      }
    }
    return found;
  }

  /**
   * The sum of the most recently received data point of the histogram {@code name} whose attributes
   * include every entry of {@code attributes}; empty if none was received yet.
   */
  public OptionalDouble latestHistogramSum(String name, Map<String, String> attributes) {
    OptionalDouble found = OptionalDouble.empty();
    for (Metric m : metrics) {
      if (!m.getName().equals(name) || !m.hasHistogram()) {
        continue;
      }
      for (var p : m.getHistogram().getDataPointsList()) {
        if (matches(p.getAttributesList(), attributes)) {
          found = OptionalDouble.of(p.getSum());
        }
      }
    }
    return found;
  }

  /** The names of every metric received. */
  public java.util.Set<String> metricNames() {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (Metric m : metrics) {
      out.add(m.getName());
    }
    return out;
  }

  private static boolean matches(List<KeyValue> have, Map<String, String> want) {
    for (Map.Entry<String, String> w : want.entrySet()) {
      boolean ok = false;
      for (KeyValue kv : have) {
        if (kv.getKey().equals(w.getKey()) && kv.getValue().getStringValue().equals(w.getValue())) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
