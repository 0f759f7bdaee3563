package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tools wired end to end over the real server: the demo agent's risk-3 {@code orders.refund} is
 * declared in the YAML configuration as an HTTP tool pointing at a payment API this test runs on
 * loopback, with its bearer token as a secret reference. Every effect is counted by that API, i.e.
 * outside the engine. A refund waits for approval; bypass attempts (viewer, other tenant, invalid
 * edit, replay, expired) execute nothing; an approval with edited, valid arguments executes exactly
 * once, with the edited arguments and the secret header, and the secret never reaches the events.
 */
class GovernedApprovalIT {
  private static final String SECRET = "pay-secret-7f3a9c";
  @TempDir Path home;
  final HttpClient http = HttpClient.newHttpClient();
  final List<String> refunds = new CopyOnWriteArrayList<>();
  final List<String> auth = new CopyOnWriteArrayList<>();
  HttpServer payments;

  @BeforeEach
  void startPayments() throws Exception {
    payments = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    payments.createContext(
        "/refunds/",
        ex -> {
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          refunds.add(ex.getRequestURI().getPath() + " " + body);
          auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
          // a careless API that echoes the caller's credentials back
          byte[] out =
              ("{\"refund_id\":\"rf_1\",\"status\":\"done\",\"echo\":\""
                      + ex.getRequestHeaders().getFirst("Authorization")
                      + "\"}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    payments.start();
  }

  @AfterEach
  void stopPayments() {
    payments.stop(0);
  }

  private KeelConfig config(String approvalTimeout) throws Exception {
    return config(approvalTimeout, false);
  }

  private KeelConfig config(String approvalTimeout, boolean fourEyes) throws Exception {
    Path key = home.resolve("pay.key");
    Files.writeString(key, SECRET + "\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    String yaml =
        """
        home: %s
        server:
          port: 0
        approvals:
          four-eyes: %s
        tools:
          approval-timeout: %s
          secrets:
            PAY_KEY: file:%s
          http:
            - name: orders.refund
              description: Refunds an order through the payment API.
              version: "2"
              risk: 3
              method: POST
              url: http://127.0.0.1:%d/refunds/{order_id}
              headers:
                Authorization: "Bearer ${secret:PAY_KEY}"
              allowed-hosts: [127.0.0.1]
              allowed-ranges: [127.0.0.1/32]
              allow-plain-http: true
              idempotency: keyed
              input-schema:
                type: object
                required: [order_id, amount_usd]
                additionalProperties: false
                properties:
                  order_id: {type: string}
                  amount_usd: {type: number, exclusiveMinimum: 0, maximum: 100}
                  reason: {type: string}
        """
            .formatted(home, fourEyes, approvalTimeout, key, payments.getAddress().getPort());
    Path file = home.resolve("keel.yaml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(Optional.of(file), Map.of());
  }

  HttpResponse<String> call(String method, String url, String token, String body) throws Exception {
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
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject json(HttpResponse<String> r) {
    return (JsonObject) JsonParser.parse(r.body(), JsonLimits.TRUSTED);
  }

  private String startAndAwaitApproval(String base, String token, String order) throws Exception {
    String body =
        "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Refund order " + order + "\"}}";
    HttpResponse<String> created = call("POST", base + "/v1/runs", token, body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String runId = json(created).string("id").orElseThrow();
    JsonObject waiting =
        json(call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", token, null));
    assertThat(waiting.string("status")).as(waiting.toString()).contains("waiting");
    return runId
        + " "
        + ((JsonValue.JsonString)
                ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow())
                    .items()
                    .getFirst())
            .value();
  }

  @Test
  void approvalsAreBoundAndAnEditedApprovalExecutesOnce() throws Exception {
    try (KeelRuntime rt = KeelRuntime.serve(config("20s"))) {
      String admin = rt.firstAdminToken().orElseThrow();
      String operator =
          KeyTokens.issue(rt.keys(), "default", Role.OPERATOR, Set.of(), Instant.now()).token();
      String viewer =
          KeyTokens.issue(rt.keys(), "default", Role.VIEWER, Set.of(), Instant.now()).token();
      String stranger =
          KeyTokens.issue(rt.keys(), "other", Role.ADMIN, Set.of(), Instant.now()).token();
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();

      String[] started = startAndAwaitApproval(base, admin, "A-2001").split(" ");
      String runId = started[0];
      String approve = base + "/v1/approvals/" + started[1] + "/approve";
      String edited =
          "{\"arguments\":{\"order_id\":\"A-2001\",\"amount_usd\":10,\"reason\":\"partial\"}}";

      assertThat(call("POST", approve, viewer, edited).statusCode()).isEqualTo(403);
      assertThat(call("POST", approve, stranger, edited).statusCode()).isEqualTo(404);
      HttpResponse<String> invalid =
          call(
              "POST",
              approve,
              operator,
              "{\"arguments\":{\"order_id\":\"A-2001\",\"amount_usd\":\"ten\",\"extra\":1}}");
      assertThat(invalid.statusCode()).as(invalid.body()).isEqualTo(422);
      assertThat(json(invalid).string("code")).contains("invalid_arguments");
      assertThat(invalid.body()).contains("/arguments/amount_usd").contains("/arguments/extra");
      Thread.sleep(300);
      assertThat(refunds).isEmpty();
      assertThat(
              json(call("GET", base + "/v1/approvals/" + started[1], operator, null))
                  .string("status"))
          .contains("pending");

      HttpResponse<String> ok = call("POST", approve, operator, edited);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      JsonObject done =
          json(call("POST", base + "/v1/runs/" + runId + "/wait?timeout_s=60", admin, null));
      assertThat(done.string("status")).as(done.toString()).contains("completed");
      assertThat(refunds).hasSize(1);
      assertThat(refunds.getFirst()).startsWith("/refunds/A-2001 ").contains("10");
      assertThat(refunds.getFirst()).doesNotContain("42.5");
      assertThat(auth).containsExactly("Bearer " + SECRET);

      HttpResponse<String> replay = call("POST", approve, operator, edited);
      assertThat(replay.statusCode()).as(replay.body()).isEqualTo(409);
      HttpResponse<String> replayAdmin = call("POST", approve, admin, "{}");
      assertThat(replayAdmin.statusCode()).isEqualTo(409);
      Thread.sleep(300);
      assertThat(refunds).hasSize(1);

      List<EventEnvelope> events = rt.store().events(RunId.of(runId), 0, Integer.MAX_VALUE);
      List<RunEvent> log = events.stream().map(EventEnvelope::event).toList();
      assertThat(log)
          .filteredOn(RunEvent.DecisionRecorded.class::isInstance)
          .map(e -> (RunEvent.DecisionRecorded) e)
          .anySatisfy(
              d -> {
                assertThat(d.action()).isEqualTo("tools_bound");
                assertThat(d.summary().toString()).contains("\"orders.refund\":\"2\"");
              });
      assertThat(log)
          .filteredOn(RunEvent.ToolCallProposed.class::isInstance)
          .map(e -> ((RunEvent.ToolCallProposed) e).verdict())
          .containsExactly("allow", "approval");
      assertThat(log).filteredOn(RunEvent.ToolCallStarted.class::isInstance).hasSize(2);
      assertThat(events.toString()).doesNotContain(SECRET).contains("[REDACTED]");
    }
  }

  @Test
  void withFourEyesTheRunsCreatorMayDenyButNotApprove() throws Exception {
    ch.qos.logback.classic.Logger auditLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("keel.tools.audit");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> audited =
        new ch.qos.logback.core.read.ListAppender<>();
    audited.start();
    auditLog.addAppender(audited);
    try (KeelRuntime rt = KeelRuntime.serve(config("60s", true))) {
      String admin = rt.firstAdminToken().orElseThrow();
      var alice = KeyTokens.issue(rt.keys(), "default", Role.OPERATOR, Set.of(), Instant.now());
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();

      String[] started = startAndAwaitApproval(base, alice.token(), "C-4001").split(" ");
      JsonObject run = json(call("GET", base + "/v1/runs/" + started[0], admin, null));
      assertThat(run.string("created_by")).as(run.toString()).contains(alice.key().id());
      String approve = base + "/v1/approvals/" + started[1] + "/approve";
      HttpResponse<String> self = call("POST", approve, alice.token(), "{}");
      assertThat(self.statusCode()).as(self.body()).isEqualTo(403);
      assertThat(json(self).string("code")).contains("forbidden");
      assertThat(json(self).string("detail").orElseThrow())
          .contains("four-eyes")
          .contains(alice.key().id())
          .contains(started[0]);
      // The refusal is in the audit trail: who, which approval, refused, and the rule.
      assertThat(audited.list)
          .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .anySatisfy(
              line ->
                  assertThat(line)
                      .contains("ApprovalChecked")
                      .contains(started[1])
                      .contains(alice.key().id())
                      .contains("accepted=false")
                      .contains("four-eyes"));
      Thread.sleep(300);
      assertThat(refunds).isEmpty();
      assertThat(
              json(call("GET", base + "/v1/approvals/" + started[1], admin, null)).string("status"))
          .contains("pending");
      // Another approver may approve; the refund happens once.
      HttpResponse<String> other = call("POST", approve, admin, "{}");
      assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
      JsonObject done =
          json(call("POST", base + "/v1/runs/" + started[0] + "/wait?timeout_s=60", admin, null));
      assertThat(done.string("status")).as(done.toString()).contains("completed");
      assertThat(refunds).hasSize(1);

      // The creator may always deny a call of its own run: denying causes no effect.
      String[] second = startAndAwaitApproval(base, alice.token(), "C-4002").split(" ");
      HttpResponse<String> deny =
          call(
              "POST",
              base + "/v1/approvals/" + second[1] + "/deny",
              alice.token(),
              "{\"reason\":\"not this one\"}");
      assertThat(deny.statusCode()).as(deny.body()).isEqualTo(200);
      json(call("POST", base + "/v1/runs/" + second[0] + "/wait?timeout_s=60", admin, null));
      assertThat(refunds).hasSize(1);
    } finally {
      auditLog.detachAppender(audited);
    }
  }

  @Test
  void anExpiredApprovalExecutesNothing() throws Exception {
    try (KeelRuntime rt = KeelRuntime.serve(config("2s"))) {
      String admin = rt.firstAdminToken().orElseThrow();
      String operator =
          KeyTokens.issue(rt.keys(), "default", Role.OPERATOR, Set.of(), Instant.now()).token();
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      String[] started = startAndAwaitApproval(base, admin, "B-3002").split(" ");
      Thread.sleep(2_500);
      HttpResponse<String> late =
          call("POST", base + "/v1/approvals/" + started[1] + "/approve", operator, "{}");
      assertThat(late.statusCode()).as(late.body()).isEqualTo(409);
      JsonObject run =
          json(call("POST", base + "/v1/runs/" + started[0] + "/wait?timeout_s=60", admin, null));
      assertThat(run.string("status")).as(run.toString()).contains("completed");
      assertThat(refunds).isEmpty();
    }
  }
}
