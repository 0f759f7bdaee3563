package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quotas and backpressure over real HTTP on SQLite and PostgreSQL: runs per day per tenant,
 * unfinished runs per API key and the queue depth each answer 429 with a {@code Retry-After} and a
 * detail naming the limit, and only the caller who is over the limit is refused.
 */
class QuotaIT {
  static final String BODY = "{\"agent\":\"triage\",\"input\":{\"goal\":\"quota\"}}";

  static void assertLimited(TestServer.Response r, String code, String limit, long maxRetry) {
    assertThat(r.status()).as(r.body()).isEqualTo(429);
    assertThat(r.str("code")).isEqualTo(code);
    assertThat(r.str("detail")).contains(limit);
    long retry = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retry).isBetween(1L, maxRetry);
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void runsPerDayPerTenant(TestServer.Store kind) {
    try (TestServer t = new TestServer(kind, ApiPolicy.DEFAULT.withQuotas(3, 0, 0))) {
      for (int i = 0; i < 3; i++) {
        assertThat(t.call("POST", "/v1/runs", t.operator, BODY).status()).isEqualTo(201);
      }
      assertLimited(
          t.call("POST", "/v1/runs", t.operator, BODY),
          "quota_exceeded",
          "quotas.runs-per-day",
          86_400);
      assertLimited(
          t.call("POST", "/v1/runs", t.admin, BODY),
          "quota_exceeded",
          "quotas.runs-per-day",
          86_400);
      assertThat(t.call("POST", "/v1/runs", t.otherOperator, BODY).status())
          .as("another tenant has its own quota")
          .isEqualTo(201);
      assertThat(t.call("GET", "/v1/runs?limit=100", t.viewer, null).data()).hasSize(3);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void concurrentRunsPerUser(TestServer.Store kind) {
    try (TestServer t = new TestServer(kind, ApiPolicy.DEFAULT.withQuotas(0, 2, 0))) {
      String first = t.createRun("triage", "one");
      t.createRun("triage", "two");
      assertLimited(
          t.call("POST", "/v1/runs", t.operator, BODY),
          "too_many_runs",
          "quotas.concurrent-runs-per-user",
          60);
      assertThat(t.call("POST", "/v1/runs", t.admin, BODY).status())
          .as("another key of the tenant is not limited by this key's runs")
          .isEqualTo(201);
      t.await(first);
      assertThat(t.call("POST", "/v1/runs/" + first + "/cancel", t.operator, "{}").status())
          .isEqualTo(202);
      assertThat(t.await(first).string("status")).contains("cancelled");
      assertThat(t.call("POST", "/v1/runs", t.operator, BODY).status())
          .as("a finished run frees its slot")
          .isEqualTo(201);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void queueDepth(TestServer.Store kind) {
    try (TestServer t = TestServer.withoutWorker(kind, ApiPolicy.DEFAULT.withQuotas(0, 0, 2))) {
      assertThat(t.call("POST", "/v1/runs", t.operator, BODY).status()).isEqualTo(201);
      assertThat(t.call("POST", "/v1/runs", t.otherOperator, BODY).status()).isEqualTo(201);
      assertLimited(
          t.call("POST", "/v1/runs", t.operator, BODY), "queue_full", "quotas.queue-depth", 10);
      assertLimited(
          t.call("POST", "/v1/runs", t.otherOperator, BODY),
          "queue_full",
          "quotas.queue-depth",
          10);
      assertThat(t.call("GET", "/v1/runs", t.viewer, null).status()).isEqualTo(200);
    }
  }

  /** {@code n} POSTs of {@link #BODY} at once, alternating between the servers and tokens. */
  static List<TestServer.Response> race(int n, List<TestServer> servers, List<String> tokens)
      throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<TestServer.Response>> futures = new ArrayList<>();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        TestServer via = servers.get(i % servers.size());
        String token = tokens.get(i % tokens.size());
        futures.add(
            ex.submit(
                () -> {
                  go.await();
                  return via.call("POST", "/v1/runs", token, BODY);
                }));
      }
      go.countDown();
      List<TestServer.Response> out = new ArrayList<>();
      for (Future<TestServer.Response> f : futures) {
        out.add(f.get());
      }
      return out;
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void concurrentCreatesOnTwoServersNeverExceedRunsPerDay(TestServer.Store kind) throws Exception {
    ApiPolicy policy = ApiPolicy.DEFAULT.withQuotas(5, 0, 0);
    try (TestServer a = TestServer.withoutWorker(kind, policy);
        TestServer b = TestServer.secondWithoutWorker(a, policy)) {
      List<TestServer.Response> rs = race(30, List.of(a, b), List.of(a.operator, a.admin));
      assertThat(rs).filteredOn(r -> r.status() == 201).hasSize(5);
      List<TestServer.Response> refused = rs.stream().filter(r -> r.status() != 201).toList();
      assertThat(refused).hasSize(25);
      refused.forEach(r -> assertLimited(r, "quota_exceeded", "quotas.runs-per-day", 86_400));
      assertThat(a.call("GET", "/v1/runs?limit=100", a.viewer, null).data()).hasSize(5);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void concurrentCreatesOfOneKeyOnTwoServersNeverExceedItsUnfinishedRuns(TestServer.Store kind)
      throws Exception {
    ApiPolicy policy = ApiPolicy.DEFAULT.withQuotas(0, 3, 0);
    try (TestServer a = TestServer.withoutWorker(kind, policy);
        TestServer b = TestServer.secondWithoutWorker(a, policy)) {
      List<TestServer.Response> rs = race(30, List.of(a, b), List.of(a.operator));
      assertThat(rs).filteredOn(r -> r.status() == 201).hasSize(3);
      List<TestServer.Response> refused = rs.stream().filter(r -> r.status() != 201).toList();
      assertThat(refused).hasSize(27);
      refused.forEach(
          r -> assertLimited(r, "too_many_runs", "quotas.concurrent-runs-per-user", 60));
      assertThat(b.call("POST", "/v1/runs", a.admin, BODY).status())
          .as("another key of the tenant is not limited by this key's runs")
          .isEqualTo(201);
      // (concurrentRunsPerUser shows a finished run freeing its slot.)
    }
  }
}
