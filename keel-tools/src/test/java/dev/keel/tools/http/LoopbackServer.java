package dev.keel.tools.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A loopback HTTP server for tests: counts hits and records request headers. */
final class LoopbackServer implements AutoCloseable {
  final HttpServer server;
  final AtomicInteger hits = new AtomicInteger();
  final List<com.sun.net.httpserver.Headers> requests = new CopyOnWriteArrayList<>();

  LoopbackServer(String address) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), 0), 50);
    server.createContext("/", this::handle);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    hits.incrementAndGet();
    requests.add(ex.getRequestHeaders());
    String path = ex.getRequestURI().getPath();
    String query = ex.getRequestURI().getRawQuery();
    byte[] body;
    if (path.startsWith("/redirect")
        && query != null
        && (query.startsWith("to=") || query.startsWith("q="))) {
      ex.getResponseHeaders()
          .add(
              "Location",
              URLDecoder.decode(query.substring(query.indexOf('=') + 1), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(302, -1);
      ex.close();
      return;
    }
    if (path.startsWith("/fail")) {
      body = "{\"error\":\"busy\"}".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(503, body.length);
    } else {
      String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      body =
          ("{\"data\":{\"path\":\""
                  + ex.getRequestURI().getRawPath()
                  + "\",\"key\":\""
                  + key
                  + "\",\"auth\":\""
                  + auth
                  + "\"}}")
              .getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
    }
    ex.getResponseBody().write(body);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
