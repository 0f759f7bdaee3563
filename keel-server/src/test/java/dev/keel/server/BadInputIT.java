package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The bad-input corpus BI-01..BI-06, BI-09: clear 4xx answers, never a 500, nothing stored. */
class BadInputIT {
  static TestServer t;
  int runsBefore;

  @BeforeAll
  static void start() {
    t = new TestServer();
  }

  @AfterAll
  static void stop() throws Exception {
    t.close();
  }

  @BeforeEach
  void count() {
    runsBefore = t.store.rows().size();
  }

  @AfterEach
  void nothingPersisted() {
    assertThat(t.store.rows()).hasSize(runsBefore);
  }

  TestServer.Response create(String body) {
    return t.call("POST", "/v1/runs", t.operator, body);
  }

  TestServer.Response createBytes(byte[] body) throws Exception {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(t.base() + "/v1/runs"))
            .header("Authorization", "Bearer " + t.operator)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    HttpResponse<String> r = t.http.send(req, HttpResponse.BodyHandlers.ofString());
    return new TestServer.Response(r.statusCode(), r.body(), r.headers());
  }

  static void problem(TestServer.Response r, int status, String code) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/problem+json");
    assertThat(r.str("code")).isEqualTo(code);
    assertThat(r.json().string("detail")).isPresent();
    assertThat(r.json().string("title")).isPresent();
    assertThat(r.json().string("type")).isPresent();
  }

  /**
   * Sends a body larger than the limit. The server answers 413 without reading the rest and closes
   * the connection, so the client may see the close (a reset) before it reads the answer: both are
   * a refusal, and nothing may be stored either way.
   */
  int oversized(String body) {
    try {
      TestServer.Response r = create(body);
      if (r.status() == 413) {
        problem(r, 413, "payload_too_large");
      }
      return r.status();
    } catch (java.io.UncheckedIOException x) {
      return 413;
    }
  }

  @Test
  void bi01BodyJustOverTheLimitIs413() {
    String goal = "x".repeat(1 << 20);
    assertThat(oversized("{\"agent\":\"triage\",\"input\":{\"goal\":\"" + goal + "\"}}"))
        .isEqualTo(413);
  }

  @Test
  void bi01HugeDeclaredLengthIs413BeforeTheBodyIsSent() throws Exception {
    try (Socket s = new Socket("127.0.0.1", t.server.port())) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + t.operator
                  + "\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long start = System.nanoTime();
      InputStream in = s.getInputStream();
      String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(head).isEqualTo("HTTP/1.1 413");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void bi01ChunkedBodyWithoutLengthIsCutOff() throws Exception {
    byte[] big = new byte[3 << 20];
    java.util.Arrays.fill(big, (byte) ' ');
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(t.base() + "/v1/runs"))
            .header("Authorization", "Bearer " + t.operator)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
            .build();
    try {
      HttpResponse<String> r = t.http.send(req, HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(413);
    } catch (java.io.IOException x) {
      // The server answered 413 and closed while the client was still sending: also correct.
      assertThat(x).isNotNull();
    }
  }

  @Test
  void bi02DeepNestingIs400() {
    for (int depth : new int[] {10_000, 100_000}) {
      String arrays = "[".repeat(depth) + "]".repeat(depth);
      String objects = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
      for (String nested : new String[] {arrays, objects}) {
        long start = System.nanoTime();
        TestServer.Response r =
            create(
                "{\"agent\":\"triage\",\"input\":{\"goal\":\"g\"},\"metadata\":{\"x\":"
                    + nested
                    + "}}");
        problem(r, 400, "invalid_argument");
        assertThat(r.body()).contains("nesting deeper than 64");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
      }
    }
  }

  @Test
  void bi03HostileNumbersAre400() {
    String[] budgets = {
      "{\"max_steps\":" + "9".repeat(1_000_000) + "}",
      "{\"max_steps\":1e999999999}",
      "{\"max_steps\":NaN}",
      "{\"max_steps\":Infinity}",
      "{\"max_steps\":99999999999999999999}",
      "{\"max_steps\":1.5}",
      "{\"max_steps\":-1}",
      "{\"max_cost_usd\":\"1\"}",
    };
    for (String b : budgets) {
      String body = "{\"agent\":\"triage\",\"input\":{\"goal\":\"g\"},\"budget\":" + b + "}";
      TestServer.Response r = create(body);
      assertThat(r.status()).as(b.length() > 80 ? b.substring(0, 80) : b).isIn(400, 413);
      assertThat(r.json().string("code")).isPresent();
    }
    TestServer.Response steps =
        create("{\"agent\":\"triage\",\"input\":{\"goal\":\"g\"},\"budget\":{\"max_steps\":1.5}}");
    assertThat(steps.body()).contains("/budget/max_steps");
  }

  @Test
  void bi04OversizedStringsAndManyKeysAre400() {
    problem(
        create("{\"agent\":\"triage\",\"input\":{\"goal\":\"" + "g".repeat(200_000) + "\"}}"),
        400,
        "invalid_argument");
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 100_000; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":1");
    }
    many.append('}');
    assertThat(
            oversized(
                "{\"agent\":\"triage\",\"input\":{\"goal\":\"g\"},\"metadata\":" + many + "}"))
        .isIn(400, 413);
    StringBuilder keys = new StringBuilder("{");
    for (int i = 0; i < 20_000; i++) {
      keys.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":1");
    }
    keys.append('}');
    problem(
        create("{\"agent\":\"triage\",\"input\":{\"goal\":\"g\"},\"metadata\":" + keys + "}"),
        400,
        "invalid_argument");
    problem(
        create("{\"" + "p".repeat(50_000) + "\":1,\"agent\":\"triage\",\"input\":{}}"),
        400,
        "invalid_argument");
  }

  @Test
  void bi05InvalidUtf8NulAndLoneSurrogatesAre400() throws Exception {
    byte[][] bad = {
      {(byte) 0xC3, 0x28}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}
    };
    for (byte[] b : bad) {
      byte[] prefix =
          "{\"agent\":\"triage\",\"input\":{\"goal\":\"".getBytes(StandardCharsets.UTF_8);
      byte[] suffix = "\"}}".getBytes(StandardCharsets.UTF_8);
      byte[] body = new byte[prefix.length + b.length + suffix.length];
      System.arraycopy(prefix, 0, body, 0, prefix.length);
      System.arraycopy(b, 0, body, prefix.length, b.length);
      System.arraycopy(suffix, 0, body, prefix.length + b.length, suffix.length);
      problem(createBytes(body), 400, "invalid_argument");
    }
    problem(
        create("{\"agent\":\"triage\",\"input\":{\"goal\":\"a\\u0000b\"}}"),
        400,
        "invalid_argument");
    problem(
        create("{\"agent\":\"triage\",\"input\":{\"goal\":\"a\\uD800b\"}}"),
        400,
        "invalid_argument");
    problem(create("{\"agent\":\"tri\\u0000age\",\"input\":{}}"), 400, "invalid_argument");
  }

  @Test
  void bi06WrongTypesUnknownFieldsDuplicatesAndContentTypeNameThePointer() {
    TestServer.Response types = create("{\"agent\":5,\"input\":\"goal\",\"channel\":true}");
    problem(types, 400, "invalid_argument");
    assertThat(types.body())
        .contains("\"pointer\":\"/agent\"")
        .contains("\"pointer\":\"/input\"")
        .contains("\"pointer\":\"/channel\"");
    TestServer.Response missing = create("{\"agent\":null,\"input\":{\"goal\":\"g\"}}");
    assertThat(missing.body()).contains("\"pointer\":\"/agent\"").contains("is required");
    TestServer.Response unknown =
        create("{\"agent\":\"triage\",\"input\":{\"goal\":\"g\",\"gaol\":1},\"agnet\":1}");
    assertThat(unknown.body()).contains("/agnet").contains("/input/gaol");
    TestServer.Response dup = create("{\"agent\":\"triage\",\"agent\":\"x\",\"input\":{}}");
    problem(dup, 400, "invalid_argument");
    assertThat(dup.body()).containsIgnoringCase("duplicate");
    problem(
        t.call(
            "POST",
            "/v1/runs",
            t.operator,
            "{\"agent\":\"triage\",\"input\":{}}",
            Map.of("Content-Type", "text/plain")),
        415,
        "unsupported_media_type");
    problem(create("[1,2]"), 400, "invalid_argument");
    problem(create("{\"agent\":\"triage\""), 400, "invalid_argument");
    problem(create("{\"agent\":\"nope\",\"input\":{}}"), 400, "invalid_argument");
    problem(
        create("{\"agent\":\"triage\",\"input\":{},\"webhook\":\"http://x\"}"),
        400,
        "invalid_argument");
    String run = t.createRun("triage", "for resume");
    runsBefore++;
    problem(
        t.call("POST", "/v1/runs/" + run + "/messages", t.operator, "{\"content\":7}"),
        400,
        "invalid_argument");
    problem(
        t.call("POST", "/v1/runs/" + run + "/pause", t.operator, "{\"now\":true}"),
        400,
        "invalid_argument");
    problem(
        t.call("GET", "/v1/runs/" + run + "/events?after=-1", t.viewer, null),
        400,
        "invalid_argument");
    problem(
        t.call("GET", "/v1/runs/" + run + "/events?limit=abc", t.viewer, null),
        400,
        "invalid_argument");
    problem(t.call("GET", "/v1/usage?group_by=planet", t.viewer, null), 400, "invalid_argument");
    problem(t.call("GET", "/v1/usage?from=yesterday", t.viewer, null), 400, "invalid_argument");
    problem(t.call("GET", "/v1/runs?cursor=%25%25", t.viewer, null), 400, "invalid_argument");
    problem(t.call("GET", "/v1/nope", t.viewer, null), 404, "not_found");
    problem(t.call("GET", "/v1/runs/not-a-run-id", t.viewer, null), 404, "not_found");
    problem(t.call("DELETE", "/v1/runs", t.viewer, null), 405, "method_not_allowed");
  }

  @Test
  void bi09ControlCharactersInTheIdempotencyKeyAreRejected() {
    for (String key : new String[] {"a b", "tab\tkey", "x".repeat(256)}) {
      problem(
          t.call(
              "POST",
              "/v1/runs",
              t.operator,
              "{\"agent\":\"triage\",\"input\":{\"goal\":\"g\"}}",
              Map.of("Idempotency-Key", key)),
          400,
          "invalid_argument");
    }
  }

  @Test
  void rateLimitsAnswer429WithRetryAfterNamingTheLimit() throws Exception {
    try (TestServer tight =
        new TestServer(ServerConfig.DEFAULT.withPort(0).withRates(1, 3, 1000, 1000))) {
      int limited = 0;
      for (int i = 0; i < 10; i++) {
        TestServer.Response r = tight.call("GET", "/v1/agents", tight.viewer, null);
        if (r.status() == 429) {
          limited++;
          assertThat(r.headers().firstValue("Retry-After")).isPresent();
          assertThat(r.str("detail")).contains("limits.key-rate");
        }
      }
      assertThat(limited).isGreaterThanOrEqualTo(6);
      assertThat(tight.call("GET", "/v1/agents", tight.admin, null).status()).isEqualTo(200);
    }
  }
}
