package dev.keel.testkit;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake external service on loopback that counts side effects, standing outside the worker process
 * so a killed worker cannot take its counts with it.
 *
 * <p>{@code POST /effect?key=K&keyed=true} applies an effect once per key (an API that honours
 * idempotency keys); with {@code keyed=false} every request applies one. {@code GET /count?key=K}
 * answers how many effects a key caused; {@code GET /requests?key=K} how many requests it saw.
 */
public final class LedgerService implements AutoCloseable {
  private final HttpServer server;
  private final Map<String, AtomicInteger> effects = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();

  /** Starts the service on a free loopback port. */
  public LedgerService() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext(
        "/",
        ex -> {
          Map<String, String> q = query(ex.getRequestURI());
          String key = q.getOrDefault("key", "");
          String body;
          switch (ex.getRequestURI().getPath()) {
            case "/effect" -> {
              requests.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
              AtomicInteger n = effects.computeIfAbsent(key, k -> new AtomicInteger());
              if ("true".equals(q.get("keyed"))) {
                n.compareAndSet(0, 1);
              } else {
                n.incrementAndGet();
              }
              body = Integer.toString(n.get());
            }
            case "/count" ->
                body = Integer.toString(effects.getOrDefault(key, new AtomicInteger()).get());
            case "/requests" ->
                body = Integer.toString(requests.getOrDefault(key, new AtomicInteger()).get());
            default -> body = "";
          }
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, bytes.length);
          ex.getResponseBody().write(bytes);
          ex.close();
        });
    server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  /** The base URL, such as {@code http://127.0.0.1:41234}. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Effects caused by {@code key}. */
  public int effects(String key) {
    return effects.getOrDefault(key, new AtomicInteger()).get();
  }

  /** Requests that carried {@code key}. */
  public int requests(String key) {
    return requests.getOrDefault(key, new AtomicInteger()).get();
  }

  /** Every key and its effect count. */
  public Map<String, Integer> allEffects() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    effects.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Sends one effect to the service at {@code baseUrl}; used by the ledger tools. */
  public static int send(HttpClient client, String baseUrl, String key, boolean keyed)
      throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(
                URI.create(
                    baseUrl
                        + "/effect?keyed="
                        + keyed
                        + "&key="
                        + java.net.URLEncoder.encode(key, StandardCharsets.UTF_8)))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    return Integer.parseInt(client.send(req, HttpResponse.BodyHandlers.ofString()).body());
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> out = new java.util.HashMap<>();
    String q = uri.getRawQuery();
    if (q == null) {
      return out;
    }
    for (String part : q.split("&")) {
      int i = part.indexOf('=');
      if (i > 0) {
        out.put(
            part.substring(0, i),
            java.net.URLDecoder.decode(part.substring(i + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
