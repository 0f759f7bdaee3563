package dev.keel.app;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiPredicate;

/** A small client of the Keel HTTP API for the CLI; failures become exit codes. */
final class ApiClient {
  private final String base;
  private final String token;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  ApiClient(String base, String token) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
  }

  String base() {
    return base;
  }

  JsonObject get(String path) {
    return send("GET", path, Optional.empty());
  }

  JsonObject post(String path, JsonObject body) {
    return send("POST", path, Optional.of(body));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofMinutes(6))
        .header("Authorization", "Bearer " + token);
  }

  private JsonObject send(String method, String path, Optional<JsonObject> body) {
    HttpRequest.Builder b = request(path);
    if (body.isPresent()) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body.get().toString()));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException x) {
      throw unreachable(x);
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      throw new CliException(1, "interrupted");
    }
    JsonValue v;
    try {
      v = JsonParser.parse(r.body(), JsonLimits.TRUSTED);
    } catch (RuntimeException x) {
      throw new CliException(
          CliException.UNREACHABLE,
          "the server at "
              + base
              + " answered "
              + r.statusCode()
              + " with something other than JSON");
    }
    if (r.statusCode() >= 400) {
      JsonObject p = v instanceof JsonObject o ? o : JsonValue.EMPTY_OBJECT;
      String detail = p.string("detail").orElse("HTTP " + r.statusCode());
      String code = p.string("code").orElse("error");
      throw new CliException(
          r.statusCode() >= 500 ? CliException.UNREACHABLE : CliException.USAGE,
          code + ": " + detail);
    }
    return v instanceof JsonObject o ? o : JsonValue.object("value", v);
  }

  private CliException unreachable(IOException x) {
    String why =
        x instanceof ConnectException || x instanceof HttpConnectTimeoutException
            ? "connection refused"
            : x.getMessage();
    return new CliException(
        CliException.UNREACHABLE,
        "cannot reach the Keel server at "
            + base
            + " ("
            + why
            + "); start it with 'keel serve', or omit --server to use the local store");
  }

  /**
   * Follows the run's events over SSE after {@code after}; {@code onEvent} receives (type, data)
   * and returns false to stop. Returns when the stream ends or the callback stops it.
   */
  void follow(String runId, long after, BiPredicate<String, JsonObject> onEvent) {
    HttpRequest req =
        request("/v1/runs/" + runId + "/events")
            .timeout(Duration.ofDays(1))
            .header("Accept", "text/event-stream")
            .header("Last-Event-ID", Long.toString(after))
            .GET()
            .build();
    HttpResponse<InputStream> r;
    try {
      r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException x) {
      throw unreachable(x);
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      throw new CliException(1, "interrupted");
    }
    try (InputStream in = r.body();
        BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      if (r.statusCode() != 200) {
        throw new CliException(
            r.statusCode() >= 500 ? CliException.UNREACHABLE : CliException.USAGE,
            "the event stream answered " + r.statusCode());
      }
      String event = null;
      String data = null;
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          if (event != null && data != null) {
            JsonValue v = JsonParser.parse(data, JsonLimits.TRUSTED);
            if (!onEvent.test(event, v instanceof JsonObject o ? o : JsonValue.EMPTY_OBJECT)) {
              return;
            }
          }
          event = null;
          data = null;
        } else if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
    } catch (IOException x) {
      throw unreachable(x);
    }
  }
}
