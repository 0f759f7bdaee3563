package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Runs over real HTTP: approvals end to end, idempotency, steering, threads and usage. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunLifecycleIT {
  TestServer t;

  /** The store this class runs on; subclasses run it on the real stores. */
  TestServer.Store store() {
    return TestServer.Store.MEMORY;
  }

  @BeforeAll
  void start() {
    t = new TestServer(store());
  }

  @AfterAll
  void stop() throws Exception {
    t.close();
  }

  @Test
  void runWaitsForApprovalThenCompletesAfterApprove() {
    String id = t.createRun("triage", "refund order A-1");
    JsonObject waiting = t.await(id);
    assertThat(waiting.string("status")).contains("waiting");
    List<JsonValue> pending =
        ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow()).items();
    assertThat(pending).hasSize(1);
    String approval = ((JsonValue.JsonString) pending.getFirst()).value();

    TestServer.Response list = t.call("GET", "/v1/approvals?status=pending", t.viewer, null);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body()).contains(approval).contains("orders.refund");

    TestServer.Response ok =
        t.call(
            "POST", "/v1/approvals/" + approval + "/approve", t.operator, "{\"comment\":\"fine\"}");
    assertThat(ok.status()).as(ok.body()).isEqualTo(200);
    assertThat(ok.str("status")).isEqualTo("approved");

    JsonObject done = t.await(id);
    assertThat(done.string("status")).contains("completed");
    assertThat(done.get("output").orElseThrow().toString()).contains("Refunded order A-1.");
    assertThat(t.refunds.get()).isGreaterThanOrEqualTo(1);

    TestServer.Response again =
        t.call("POST", "/v1/approvals/" + approval + "/deny", t.operator, "{\"reason\":\"late\"}");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.str("code")).isEqualTo("approval_not_pending");

    TestServer.Response events =
        t.call("GET", "/v1/runs/" + id + "/events?limit=1000", t.viewer, null);
    List<String> types = new ArrayList<>();
    long expected = 1;
    for (JsonValue e : events.data()) {
      JsonObject o = (JsonObject) e;
      assertThat(((JsonValue.JsonNumber) o.get("sequence").orElseThrow()).longValueExact())
          .isEqualTo(expected++);
      types.add(o.string("type").orElseThrow());
    }
    assertThat(types)
        .startsWith("run.created")
        .contains("approval.requested", "approval.resolved", "tool.succeeded")
        .endsWith("run.completed");

    TestServer.Response usage = t.call("GET", "/v1/usage?group_by=agent", t.viewer, null);
    assertThat(usage.status()).isEqualTo(200);
    assertThat(usage.body()).contains("\"agent\":\"triage\"").contains("cost_usd");
    assertThat(usage.body())
        .contains("\"successful_runs\":")
        .contains("cost_per_successful_run_usd");
  }

  @Test
  void aQuestionIsAnsweredByResumeAndAPersonEditsThePlan() {
    String id = t.createRun("asker", "refund my order");
    JsonObject waiting = t.await(id);
    assertThat(waiting.string("status")).contains("waiting");
    assertThat(waiting.get("plan").orElseThrow().toString()).contains("Ask which order");
    TestServer.Response list = t.call("GET", "/v1/approvals?status=pending", t.viewer, null);
    assertThat(list.body()).contains("\"kind\":\"question\"").contains("Which order?");

    TestServer.Response bad =
        t.call(
            "PUT",
            "/v1/runs/" + id + "/plan",
            t.operator,
            "{\"steps\":[{\"id\":\"1\",\"title\":\"x\",\"status\":\"maybe\"}]}");
    assertThat(bad.status()).as(bad.body()).isEqualTo(400);
    assertThat(bad.body()).contains("steps[0].status");
    TestServer.Response viewerEdit =
        t.call("PUT", "/v1/runs/" + id + "/plan", t.viewer, "{\"steps\":[]}");
    assertThat(viewerEdit.status()).isEqualTo(403);
    TestServer.Response edit =
        t.call(
            "PUT",
            "/v1/runs/" + id + "/plan",
            t.operator,
            "{\"steps\":[{\"id\":\"1\",\"title\":\"Ask which order\",\"status\":\"done\"},"
                + "{\"id\":\"2\",\"title\":\"Call the customer\",\"status\":\"pending\"}]}");
    assertThat(edit.status()).as(edit.body()).isEqualTo(202);

    TestServer.Response answer =
        t.call("POST", "/v1/runs/" + id + "/resume", t.operator, "{\"input\":\"B-8\"}");
    assertThat(answer.status()).as(answer.body()).isEqualTo(202);
    JsonObject done = t.await(id);
    assertThat(done.string("status")).contains("completed");
    String output = done.get("output").orElseThrow().toString();
    assertThat(output).contains("B-8").contains("Call the customer");
    assertThat(done.get("plan").orElseThrow().toString()).contains("\"revision\":2");
    JsonObject versions = (JsonObject) done.get("versions").orElseThrow();
    assertThat(versions.string("prompt")).contains("1");
    assertThat(versions.string("model")).contains("scripted");
    assertThat(versions.get("tools").orElseThrow().toString()).contains("orders.lookup");
    TestServer.Response approvals = t.call("GET", "/v1/approvals?status=pending", t.viewer, null);
    assertThat(approvals.body()).doesNotContain(id);
  }

  @Test
  void deniedApprovalLetsTheRunFinishWithoutTheRefund() {
    int before = t.refunds.get();
    String id = t.createRun("triage", "refund order A-1 please");
    JsonObject waiting = t.await(id);
    String approval =
        ((JsonValue.JsonString)
                ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow())
                    .items()
                    .getFirst())
            .value();
    TestServer.Response noReason =
        t.call("POST", "/v1/approvals/" + approval + "/deny", t.operator, "{}");
    assertThat(noReason.status()).isEqualTo(400);
    assertThat(noReason.body()).contains("/reason");
    TestServer.Response denied =
        t.call("POST", "/v1/approvals/" + approval + "/deny", t.operator, "{\"reason\":\"no\"}");
    assertThat(denied.status()).isEqualTo(200);
    JsonObject done = t.await(id);
    assertThat(done.string("status")).isPresent().get().isIn("completed", "failed");
    assertThat(t.refunds.get()).isEqualTo(before);
  }

  @Test
  void sameIdempotencyKeyAndBodyGivesTheSameRunAndAnotherBodyIs409() throws Exception {
    String body = "{\"agent\":\"triage\",\"input\":{\"goal\":\"idem\"}}";
    Map<String, String> key = Map.of("Idempotency-Key", "idem-1");
    TestServer.Response first = t.call("POST", "/v1/runs", t.operator, body, key);
    assertThat(first.status()).isEqualTo(201);
    TestServer.Response second =
        t.call(
            "POST",
            "/v1/runs",
            t.operator,
            "{ \"input\": {\"goal\":\"idem\"}, \"agent\":\"triage\" }",
            key);
    assertThat(second.status()).isEqualTo(201);
    assertThat(second.str("id")).isEqualTo(first.str("id"));
    TestServer.Response other =
        t.call(
            "POST",
            "/v1/runs",
            t.operator,
            "{\"agent\":\"triage\",\"input\":{\"goal\":\"x\"}}",
            key);
    assertThat(other.status()).isEqualTo(409);
    assertThat(other.str("code")).isEqualTo("idempotency_key_reused");
    TestServer.Response otherTenant = t.call("POST", "/v1/runs", t.otherOperator, body, key);
    assertThat(otherTenant.status()).isEqualTo(201);
    assertThat(otherTenant.str("id")).isNotEqualTo(first.str("id"));

    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Map<String, String> raceKey = Map.of("Idempotency-Key", "race-1");
      List<Callable<TestServer.Response>> racers = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        racers.add(() -> t.call("POST", "/v1/runs", t.operator, body, raceKey));
      }
      List<String> ids = new ArrayList<>();
      for (Future<TestServer.Response> f : pool.invokeAll(racers)) {
        ids.add(f.get().str("id"));
      }
      assertThat(ids).hasSize(20).containsOnly(ids.getFirst());
    }
    TestServer.Response badKey =
        t.call("POST", "/v1/runs", t.operator, body, Map.of("Idempotency-Key", "has space"));
    assertThat(badKey.status()).isEqualTo(400);
  }

  @Test
  void cancelEndsARunAndLaterSignalsAre409() {
    String id = t.createRun("triage", "cancel me");
    t.await(id);
    TestServer.Response c =
        t.call("POST", "/v1/runs/" + id + "/cancel", t.operator, "{\"reason\":\"test\"}");
    assertThat(c.status()).isEqualTo(202);
    JsonObject done = t.await(id);
    assertThat(done.string("status")).contains("cancelled");
    TestServer.Response late = t.call("POST", "/v1/runs/" + id + "/pause", t.operator, null);
    assertThat(late.status()).isEqualTo(409);
    assertThat(late.str("code")).isEqualTo("run_terminal");
  }

  @Test
  void messagesAndThreadsAndListsWork() {
    String thread = "thr_lifecycle1";
    TestServer.Response r =
        t.call(
            "POST",
            "/v1/runs",
            t.operator,
            "{\"agent\":\"triage\",\"thread_id\":\""
                + thread
                + "\",\"input\":{\"goal\":\"hi\"},"
                + "\"metadata\":{\"user\":\"u1\"},\"budget\":{\"max_steps\":10}}");
    assertThat(r.status()).isEqualTo(201);
    String id = r.str("id");
    assertThat(r.json().get("budget").orElseThrow().toString()).contains("\"max_steps\":10");
    TestServer.Response m =
        t.call("POST", "/v1/runs/" + id + "/messages", t.operator, "{\"content\":\"also A-2\"}");
    assertThat(m.status()).isEqualTo(202);
    TestServer.Response th = t.call("GET", "/v1/threads/" + thread, t.viewer, null);
    assertThat(th.status()).isEqualTo(200);
    assertThat(th.body()).contains(id);
    assertThat(t.call("GET", "/v1/threads/" + thread + "/runs", t.viewer, null).data()).hasSize(1);
    assertThat(t.call("GET", "/v1/threads/" + thread, t.otherViewer, null).status()).isEqualTo(404);

    TestServer.Response page1 = t.call("GET", "/v1/runs?limit=1", t.viewer, null);
    assertThat(page1.data()).hasSize(1);
    String cursor = page1.str("next_cursor");
    TestServer.Response page2 = t.call("GET", "/v1/runs?limit=1&cursor=" + cursor, t.viewer, null);
    assertThat(page2.data()).hasSize(1);
    assertThat(page2.data().getFirst().toString()).isNotEqualTo(page1.data().getFirst().toString());
    assertThat(t.call("GET", "/v1/runs?thread_id=" + thread, t.viewer, null).data()).hasSize(1);
    assertThat(t.call("GET", "/v1/runs?status=bogus", t.viewer, null).status()).isEqualTo(400);
    assertThat(t.call("GET", "/v1/runs", t.otherViewer, null).body()).doesNotContain(id);
  }

  @Test
  void aRunForksFromACheckpointWithOverrides() {
    String id = t.createRun("triage", "refund order A-1 then fork");
    t.await(id);
    TestServer.Response cps = t.call("GET", "/v1/runs/" + id + "/checkpoints", t.viewer, null);
    assertThat(cps.status()).isEqualTo(200);
    assertThat(cps.data()).isNotEmpty();
    long step =
        ((JsonValue.JsonNumber) ((JsonObject) cps.data().getFirst()).get("step").orElseThrow())
            .longValueExact();
    TestServer.Response fork =
        t.call(
            "POST",
            "/v1/runs/" + id + "/fork",
            t.operator,
            "{\"checkpoint_step\":"
                + step
                + ",\"overrides\":{\"instruction\":\"try again\",\"metadata\":{\"why\":\"test\"},"
                + "\"budget\":{\"max_steps\":9}}}");
    assertThat(fork.status()).as(fork.body()).isEqualTo(201);
    assertThat(fork.str("id")).isNotEqualTo(id);
    assertThat(fork.json().get("metadata").orElseThrow().toString())
        .contains("\"forked_from\":\"" + id + "\"")
        .contains("\"why\":\"test\"");
    assertThat(fork.json().get("budget").orElseThrow().toString()).contains("\"max_steps\":9");
    assertThat(t.await(fork.str("id")).string("status")).isPresent();

    TestServer.Response missing =
        t.call("POST", "/v1/runs/" + id + "/fork", t.operator, "{\"checkpoint_step\":999}");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.body()).contains("/checkpoint_step").contains("has steps");
    TestServer.Response noStep = t.call("POST", "/v1/runs/" + id + "/fork", t.operator, "{}");
    assertThat(noStep.status()).isEqualTo(400);
    assertThat(
            t.call("POST", "/v1/runs/" + id + "/fork", t.otherOperator, "{\"checkpoint_step\":1}")
                .status())
        .isEqualTo(404);
  }

  @Test
  void catalogHealthMetricsAndOpenApiAnswer() {
    assertThat(t.call("GET", "/v1/agents", t.viewer, null).body()).contains("triage");
    assertThat(t.call("GET", "/v1/agents/triage", t.viewer, null).body()).contains("versions");
    assertThat(t.call("GET", "/v1/agents/nope", t.viewer, null).status()).isEqualTo(404);
    assertThat(t.call("GET", "/v1/tools", t.viewer, null).body()).contains("orders.refund");
    assertThat(t.call("GET", "/healthz", null, null).status()).isEqualTo(200);
    assertThat(t.call("GET", "/readyz", null, null).status()).isEqualTo(200);
    TestServer.Response metrics = t.call("GET", "/metrics", t.viewer, null);
    assertThat(metrics.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(metrics.body()).contains("keel_http_requests_total{").contains("keel_runs{status=");
    TestServer.Response api = t.call("GET", "/openapi.json", null, null);
    for (String route : t.server.declaredRoutes()) {
      String path = route.substring(route.indexOf(' ') + 1);
      assertThat(api.body()).contains("\"" + path + "\"");
    }
  }
}
