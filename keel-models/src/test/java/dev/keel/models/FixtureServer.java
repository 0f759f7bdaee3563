package dev.keel.models;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;

/**
 * A local HTTP server on 127.0.0.1 that answers with queued fixture replies and records requests.
 */
public final class FixtureServer implements AutoCloseable {

  /** One canned reply. */
  @SuppressWarnings("ArrayRecordComponent") // test-only value; bodies are never mutated
  public record Reply(int status, Map<String, String> headers, byte[] body, long delayMillis) {
    public static Reply ok(String contentType, byte[] body) {
      return new Reply(200, Map.of("Content-Type", contentType), body, 0);
    }
  }

  /** One recorded request. */
  public record Recorded(
      String method, String path, Map<String, List<String>> headers, String body) {
    /** The first value of header {@code name}, or empty. */
    public String header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> e.getValue().getFirst())
          .findFirst()
          .orElse("");
    }
  }

  private final HttpServer server;
  private final ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
  private volatile java.util.function.Supplier<Reply> fallback =
      () -> new Reply(599, Map.of(), "no fixture queued".getBytes(StandardCharsets.UTF_8), 0);
  private final List<Recorded> requests = java.util.Collections.synchronizedList(new ArrayList<>());

  FixtureServer() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        exchange -> {
          try (exchange) {
            String body;
            try (InputStream in = exchange.getRequestBody()) {
              body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            String query = exchange.getRequestURI().getRawQuery();
            requests.add(
                new Recorded(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query),
                    Map.copyOf(exchange.getRequestHeaders()),
                    body));
            Reply reply = replies.poll();
            if (reply == null) {
              reply = fallback.get();
            }
            if (reply.delayMillis() > 0) {
              Thread.sleep(reply.delayMillis());
            }
            reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            exchange.sendResponseHeaders(
                reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(reply.body());
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } catch (IOException e) {
            // the client went away (timeout tests); nothing to answer
          }
        });
    server.start();
  }

  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Answers with {@code supplier} whenever no reply is queued. */
  public void answerWith(java.util.function.Supplier<Reply> supplier) {
    this.fallback = supplier;
  }

  public void enqueue(Reply reply) {
    replies.add(reply);
  }

  public List<Recorded> requests() {
    return List.copyOf(requests);
  }

  public Recorded lastRequest() {
    return requests.getLast();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
