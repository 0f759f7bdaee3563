package dev.keel.observe;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP/HTTP trace receiver: the JDK HTTP server on {@code /v1/traces}, decoding {@code
 * ExportTraceServiceRequest} protobufs with the official generated classes. Keeps every span and
 * every raw request body.
 */
final class OtlpReceiver implements AutoCloseable {
  final List<Span> spans = new CopyOnWriteArrayList<>();
  final List<byte[]> bodies = new CopyOnWriteArrayList<>();
  final List<String> contentTypes = new CopyOnWriteArrayList<>();
  private final HttpServer server;

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/traces",
        ex -> {
          try (InputStream raw = ex.getRequestBody()) {
            InputStream in =
                "gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(raw)
                    : raw;
            byte[] body = in.readAllBytes();
            bodies.add(body);
            contentTypes.add(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")));
            ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(body);
            for (ResourceSpans rs : req.getResourceSpansList()) {
              for (ScopeSpans ss : rs.getScopeSpansList()) {
                spans.addAll(ss.getSpansList());
              }
            }
            byte[] reply = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            ex.sendResponseHeaders(200, reply.length);
            ex.getResponseBody().write(reply);
          } catch (IOException | RuntimeException x) {
            ex.sendResponseHeaders(400, -1);
          } finally {
            ex.close();
          }
        });
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  List<Span> named(String prefix) {
    List<Span> out = new ArrayList<>();
    for (Span s : spans) {
      if (s.getName().startsWith(prefix)) {
        out.add(s);
      }
    }
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
