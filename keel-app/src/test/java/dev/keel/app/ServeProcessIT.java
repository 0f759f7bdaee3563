package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keel serve} as a real child JVM with no configuration: first start prints the admin key
 * once, SIGTERM ends event streams with a final event and exits cleanly, and a waiting run and its
 * approval survive the restart.
 */
class ServeProcessIT {
  @TempDir Path dir;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  JsonObject call(String method, String url, String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isLessThan(300);
    return (JsonObject) JsonParser.parse(r.body(), JsonLimits.TRUSTED);
  }

  @Test
  void firstStartPrintsTheKeySigtermIsGracefulAndWaitingRunsSurviveARestart() throws Exception {
    int port = ChildKeel.freePort();
    String base = "http://127.0.0.1:" + port;
    Map<String, String> env = Map.of("KEEL_HOME", dir.resolve("data").toString());
    String token;
    String runId;
    String approval;
    List<String> streamed = new CopyOnWriteArrayList<>();
    try (ChildKeel keel =
        new ChildKeel(dir, env, List.of(), List.of("serve", "--port", Integer.toString(port)))) {
      keel.awaitLine("Keel is listening on http://127.0.0.1:" + port, Duration.ofSeconds(60));
      keel.awaitLine("Admin API key", Duration.ofSeconds(10));
      token = keel.nextLine(Duration.ofSeconds(5)).strip();
      assertThat(token).startsWith("keel_");
      assertThat(Files.readString(dir.resolve("data/admin.key")).strip()).isEqualTo(token);
      ChildKeel.awaitReady(base, Duration.ofSeconds(30));

      JsonObject run =
          call(
              "POST",
              base + "/v1/runs",
              token,
              "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Refund order D-4004\"}}");
      runId = run.string("id").orElseThrow();
      JsonObject waiting =
          call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null);
      assertThat(waiting.string("status")).contains("waiting");
      approval =
          ((JsonValue.JsonString)
                  ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow())
                      .items()
                      .getFirst())
              .value();

      HttpResponse<java.io.InputStream> sse =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + runId + "/events"))
                  .header("Authorization", "Bearer " + token)
                  .header("Accept", "text/event-stream")
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      Thread reader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (BufferedReader r =
                        new BufferedReader(
                            new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
                      String line;
                      while ((line = r.readLine()) != null) {
                        if (line.startsWith("event: ")) {
                          streamed.add(line.substring(7));
                        }
                      }
                    } catch (java.io.IOException x) {
                      // the server went away
                    }
                  });
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!streamed.contains("run.waiting") && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      int code = keel.terminate(Duration.ofSeconds(60));
      assertThat(code).isIn(0, 143);
      reader.join(Duration.ofSeconds(10));
      assertThat(streamed).contains("run.waiting").endsWith("server.closing");
      assertThat(String.join("\n", keel.seen)).doesNotContain("Exception");
    }

    try (ChildKeel again =
        new ChildKeel(dir, env, List.of(), List.of("serve", "--port", Integer.toString(port)))) {
      again.awaitLine("Keel is listening", Duration.ofSeconds(60));
      ChildKeel.awaitReady(base, Duration.ofSeconds(30));
      assertThat(again.seen).noneMatch(l -> l.contains("Admin API key"));
      assertThat(call("GET", base + "/v1/runs/" + runId, token, null).string("status"))
          .contains("waiting");
      assertThat(call("GET", base + "/v1/approvals/" + approval, token, null).string("status"))
          .contains("pending");
      call("POST", base + "/v1/approvals/" + approval + "/approve", token, "{}");
      JsonObject done =
          call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null);
      assertThat(done.string("status")).contains("completed");
      assertThat(again.terminate(Duration.ofSeconds(60))).isIn(0, 143);
    }
  }
}
