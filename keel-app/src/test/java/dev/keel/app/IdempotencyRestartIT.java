package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code Idempotency-Key} answers survive a real restart of {@code keel serve} (a child JVM stopped
 * with SIGTERM and started again) on SQLite and on PostgreSQL: the same key and body get the stored
 * status and body byte for byte, another body gets 409, and racing requests with one key create one
 * run.
 */
class IdempotencyRestartIT {
  @TempDir Path dir;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  HttpResponse<String> post(String base, String token, String body, String key) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/runs"))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  ChildKeel start(Map<String, String> env, int port) throws Exception {
    ChildKeel k =
        new ChildKeel(dir, env, List.of(), List.of("serve", "--port", Integer.toString(port)));
    k.awaitLine("Keel is listening on", Duration.ofSeconds(60));
    ChildKeel.awaitReady("http://127.0.0.1:" + port, Duration.ofSeconds(30));
    return k;
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgresql"})
  void answersSurviveARestartAndRacersCreateOneRun(String db) throws Exception {
    int port = ChildKeel.freePort();
    String base = "http://127.0.0.1:" + port;
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_HOME", dir.resolve("data").toString());
    if (db.equals("postgresql")) {
      env.put("KEEL_STORE_URL", StoresIT.pgUrl());
    }
    String body = "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Refund order R-1\"}}";
    HttpResponse<String> first;
    String token;
    try (ChildKeel keel = start(env, port)) {
      token = Files.readString(dir.resolve("data/admin.key")).strip();
      first = post(base, token, body, "restart-1");
      assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Callable<HttpResponse<String>>> racers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          racers.add(() -> post(base, token, body.replace("R-1", "R-2"), "race-1"));
        }
        List<String> ids = new ArrayList<>();
        for (Future<HttpResponse<String>> f : pool.invokeAll(racers)) {
          assertThat(f.get().statusCode()).as(f.get().body()).isEqualTo(201);
          ids.add(json(f.get().body()).string("id").orElseThrow());
        }
        assertThat(ids).hasSize(16).containsOnly(ids.getFirst());
      }
      keel.terminate(Duration.ofSeconds(30));
    }
    try (ChildKeel keel = start(env, port)) {
      HttpResponse<String> again = post(base, token, body, "restart-1");
      assertThat(again.statusCode()).isEqualTo(201);
      assertThat(again.body()).isEqualTo(first.body());
      HttpResponse<String> other = post(base, token, body.replace("R-1", "R-9"), "restart-1");
      assertThat(other.statusCode()).isEqualTo(409);
      assertThat(json(other.body()).string("code")).contains("idempotency_key_reused");
      HttpResponse<String> list =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/runs?limit=100"))
                  .header("Authorization", "Bearer " + token)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      List<JsonValue> runs =
          ((JsonValue.JsonArray) json(list.body()).get("data").orElseThrow()).items();
      assertThat(runs).as("one run per key: %s", list.body()).hasSize(2);
      keel.terminate(Duration.ofSeconds(30));
    }
  }

  static JsonObject json(String s) {
    return (JsonObject) JsonParser.parse(s, JsonLimits.TRUSTED);
  }
}
