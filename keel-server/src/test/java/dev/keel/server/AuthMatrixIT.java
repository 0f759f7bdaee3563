package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every route × {no key, bad key, viewer, another tenant}. The set of routes tested must equal the
 * set Javalin registered, so a new route without a case here fails the build.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthMatrixIT {
  TestServer t;
  String runId;
  String approvalId;
  static final String THREAD = "thr_matrix";

  /** What a route is, for the matrix. */
  enum Kind {
    /** Needs no key. */
    PUBLIC,
    /** Reads tenant data; viewers may. */
    READ,
    /** Changes tenant data; viewers may not. */
    WRITE
  }

  /** The expectation of one route and how to call it. */
  record Case(String method, String path, Kind kind, boolean tenantScoped, String body) {}

  static final Map<String, Case> CASES = new java.util.LinkedHashMap<>();

  static void add(String method, String path, Kind kind, boolean scoped, String body) {
    CASES.put(method + " " + path, new Case(method, path, kind, scoped, body));
  }

  static {
    add("POST", "/v1/runs", Kind.WRITE, false, "{\"agent\":\"triage\",\"input\":{\"goal\":\"m\"}}");
    add("GET", "/v1/runs", Kind.READ, false, null);
    add("GET", "/v1/runs/{id}", Kind.READ, true, null);
    add("GET", "/v1/runs/{id}/events", Kind.READ, true, null);
    add("POST", "/v1/runs/{id}/wait", Kind.READ, true, null);
    add("POST", "/v1/runs/{id}/cancel", Kind.WRITE, true, "{}");
    add("POST", "/v1/runs/{id}/pause", Kind.WRITE, true, null);
    add("POST", "/v1/runs/{id}/resume", Kind.WRITE, true, "{}");
    add("POST", "/v1/runs/{id}/messages", Kind.WRITE, true, "{\"content\":\"x\"}");
    add(
        "PUT",
        "/v1/runs/{id}/plan",
        Kind.WRITE,
        true,
        "{\"steps\":[{\"id\":\"1\",\"title\":\"x\",\"status\":\"pending\"}]}");
    add("GET", "/v1/runs/{id}/checkpoints", Kind.READ, true, null);
    add("POST", "/v1/runs/{id}/fork", Kind.WRITE, true, "{\"checkpoint_step\":1}");
    add("GET", "/v1/approvals", Kind.READ, false, null);
    add("GET", "/v1/approvals/{id}", Kind.READ, true, null);
    add("POST", "/v1/approvals/{id}/approve", Kind.WRITE, true, "{}");
    add("POST", "/v1/approvals/{id}/deny", Kind.WRITE, true, "{\"reason\":\"r\"}");
    add("GET", "/v1/threads/{id}", Kind.READ, true, null);
    add("GET", "/v1/threads/{id}/runs", Kind.READ, true, null);
    add("GET", "/v1/agents", Kind.READ, false, null);
    add("GET", "/v1/agents/{name}", Kind.READ, false, null);
    add("GET", "/v1/tools", Kind.READ, false, null);
    add("GET", "/v1/usage", Kind.READ, false, null);
    add("GET", "/healthz", Kind.PUBLIC, false, null);
    add("GET", "/readyz", Kind.PUBLIC, false, null);
    add("GET", "/metrics", Kind.READ, false, null);
    add("GET", "/openapi.json", Kind.PUBLIC, false, null);
  }

  /** The store this class runs on; subclasses run it on the real stores. */
  TestServer.Store store() {
    return TestServer.Store.MEMORY;
  }

  @BeforeAll
  void start() {
    t = new TestServer(store());
    TestServer.Response r =
        t.call(
            "POST",
            "/v1/runs",
            t.operator,
            "{\"agent\":\"triage\",\"thread_id\":\"" + THREAD + "\",\"input\":{\"goal\":\"m\"}}");
    runId = r.str("id");
    JsonObject waiting = t.await(runId);
    approvalId =
        ((JsonValue.JsonString)
                ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow())
                    .items()
                    .getFirst())
            .value();
  }

  @AfterAll
  void stop() throws Exception {
    t.close();
  }

  String concrete(String path) {
    String id =
        path.startsWith("/v1/approvals")
            ? approvalId
            : path.startsWith("/v1/threads") ? THREAD : runId;
    return path.replace("{id}", id).replace("{name}", "triage");
  }

  @Test
  void everyRegisteredRouteIsInTheMatrix() {
    Set<String> registered = new LinkedHashSet<>(t.server.registeredRoutes());
    assertThat(registered).containsExactlyInAnyOrderElementsOf(CASES.keySet());
    assertThat(t.server.declaredRoutes()).containsExactlyInAnyOrderElementsOf(CASES.keySet());
  }

  @Test
  void withoutAKeyOnlyPublicRoutesAnswer() {
    for (Case c : CASES.values()) {
      TestServer.Response r = t.call(c.method(), concrete(c.path()), null, c.body());
      if (c.kind() == Kind.PUBLIC) {
        assertThat(r.status()).as(c.toString()).isEqualTo(200);
      } else {
        assertThat(r.status()).as(c.toString()).isEqualTo(401);
        assertThat(r.headers().firstValue("Content-Type").orElseThrow())
            .startsWith("application/problem+json");
        assertThat(r.str("code")).isEqualTo("unauthenticated");
      }
    }
  }

  @Test
  void aBadOrMalformedKeyIs401() {
    String[] bad = {"keel_nope_nope", "garbage", "keel_", t.operator + "x", "Basic abc"};
    for (Case c : CASES.values()) {
      if (c.kind() == Kind.PUBLIC) {
        continue;
      }
      for (String key : bad) {
        TestServer.Response r = t.call(c.method(), concrete(c.path()), key, c.body());
        assertThat(r.status()).as(c + " with " + key).isEqualTo(401);
      }
    }
  }

  @Test
  void viewersReadButCannotCreateOrDecide() {
    for (Case c : CASES.values()) {
      TestServer.Response r = t.call(c.method(), concrete(c.path()), t.viewer, c.body());
      if (c.kind() == Kind.WRITE) {
        assertThat(r.status()).as(c.toString()).isEqualTo(403);
        assertThat(r.str("code")).isEqualTo("forbidden");
      } else {
        assertThat(r.status()).as(c + ": " + r.body()).isEqualTo(200);
      }
    }
  }

  @Test
  void anotherTenantSeesNothing() {
    for (Case c : CASES.values()) {
      TestServer.Response r = t.call(c.method(), concrete(c.path()), t.otherOperator, c.body());
      if (c.tenantScoped()) {
        assertThat(r.status()).as(c.toString()).isEqualTo(404);
        assertThat(r.str("code")).isEqualTo("not_found");
      } else {
        assertThat(r.status()).as(c + ": " + r.body()).isIn(200, 201);
        assertThat(r.body()).as(c.toString()).doesNotContain(runId).doesNotContain(approvalId);
      }
    }
    assertThat(t.call("GET", "/v1/runs/" + runId, t.viewer, null).str("status"))
        .isEqualTo("waiting");
  }
}
