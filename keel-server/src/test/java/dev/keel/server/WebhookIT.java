package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.RunId;
import dev.keel.store.WebhookStore;
import dev.keel.store.jdbc.JdbcWebhookStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Webhooks against a real HTTP receiver on loopback, on SQLite and PostgreSQL: signed deliveries of
 * {@code run.waiting} and the terminal event, retries with backoff with every attempt recorded, and
 * a server restart in the middle of a delivery that still delivers.
 */
class WebhookIT {
  static final String SECRET = "whsec_test_secret";
  final List<Received> received = new CopyOnWriteArrayList<>();
  final AtomicInteger failuresLeft = new AtomicInteger();
  volatile CountDownLatch hold = new CountDownLatch(0);
  final CountDownLatch firstArrived = new CountDownLatch(1);
  final HttpServer receiver;

  record Received(String delivery, String event, String signature, String body) {}

  WebhookIT() throws IOException {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    receiver.createContext(
        "/hook",
        ex -> {
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          firstArrived.countDown();
          try {
            hold.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
          }
          received.add(
              new Received(
                  ex.getRequestHeaders().getFirst("Keel-Delivery"),
                  ex.getRequestHeaders().getFirst("Keel-Event"),
                  ex.getRequestHeaders().getFirst("Keel-Signature"),
                  body));
          int status = failuresLeft.getAndDecrement() > 0 ? 500 : 204;
          ex.sendResponseHeaders(status, -1);
          ex.close();
        });
    receiver.start();
  }

  @AfterEach
  void stop() {
    hold.countDown();
    receiver.stop(0);
  }

  String hookUrl() {
    return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
  }

  static ApiPolicy policy(Duration lease) {
    return ApiPolicy.DEFAULT.withWebhooks(SECRET, true, Duration.ofMillis(100), 5, lease);
  }

  String create(TestServer t) {
    TestServer.Response r =
        t.call(
            "POST",
            "/v1/runs",
            t.operator,
            "{\"agent\":\"triage\",\"input\":{\"goal\":\"refund\"},\"webhook\":\""
                + hookUrl()
                + "\"}");
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.str("id");
  }

  static void await(BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  static void verifySignature(Received r) {
    String[] parts = r.signature().split(",");
    assertThat(parts[0]).startsWith("t=");
    long t = Long.parseLong(parts[0].substring(2));
    assertThat(Math.abs(System.currentTimeMillis() / 1000 - t)).isLessThan(300);
    assertThat(r.signature()).isEqualTo(WebhookDispatcher.signature(SECRET, t, r.body()));
    assertThat(WebhookDispatcher.signature("another secret", t, r.body()))
        .isNotEqualTo(r.signature());
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void signedWaitingAndTerminalEventsAreDeliveredAndFailuresRetried(TestServer.Store kind)
      throws Exception {
    failuresLeft.set(2);
    try (TestServer t = new TestServer(kind, policy(Duration.ofSeconds(30)))) {
      String id = create(t);
      await(
          () ->
              received.stream()
                  .anyMatch(r -> "run.waiting".equals(r.event()) && received.size() >= 3),
          "run.waiting after two failures");
      JsonObject waiting = t.await(id);
      String approval =
          ((JsonValue.JsonString)
                  ((JsonValue.JsonArray) waiting.get("pending_approvals").orElseThrow())
                      .items()
                      .getFirst())
              .value();
      assertThat(
              t.call("POST", "/v1/approvals/" + approval + "/approve", t.operator, "{}").status())
          .isEqualTo(200);
      await(
          () -> received.stream().anyMatch(r -> "run.completed".equals(r.event())),
          "run.completed");
      for (Received r : received) {
        verifySignature(r);
        JsonObject body = (JsonObject) JsonParser.parse(r.body());
        assertThat(body.string("run_id")).contains(id);
        assertThat(body.string("id")).contains(r.delivery());
      }
      WebhookStore hooks = new JdbcWebhookStore(t.side);
      await(
          () ->
              hooks.deliveries(RunId.of(id)).size() == 2
                  && hooks.deliveries(RunId.of(id)).stream()
                      .allMatch(d -> d.status().equals("delivered")),
          "both deliveries recorded as delivered");
      List<WebhookStore.Delivery> ds = hooks.deliveries(RunId.of(id));
      assertThat(ds)
          .extracting(WebhookStore.Delivery::type)
          .containsExactly("run.waiting", "run.completed");
      List<WebhookStore.Attempt> first = hooks.attempts(ds.get(0).id());
      assertThat(first).extracting(WebhookStore.Attempt::httpStatus).containsExactly(500, 500, 204);
      assertThat(first.get(2).at()).isAfter(first.get(0).at().plusMillis(250));
      assertThat(hooks.attempts(ds.get(1).id()))
          .extracting(WebhookStore.Attempt::httpStatus)
          .containsExactly(204);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = TestServer.Store.class,
      names = {"SQLITE", "POSTGRES"})
  void aRestartInTheMiddleOfADeliveryStillDelivers(TestServer.Store kind) throws Exception {
    hold = new CountDownLatch(1);
    String url;
    String id;
    try (TestServer a = new TestServer(kind, policy(Duration.ofSeconds(2)))) {
      url = a.url;
      id = create(a);
      assertThat(firstArrived.await(30, TimeUnit.SECONDS)).isTrue();
      // The receiver holds the first delivery; the server stops before any answer comes.
    }
    hold.countDown();
    try (TestServer b = TestServer.reopen(url, policy(Duration.ofSeconds(2)))) {
      WebhookStore hooks = new JdbcWebhookStore(b.side);
      await(
          () ->
              hooks.deliveries(RunId.of(id)).stream()
                  .anyMatch(d -> d.type().equals("run.waiting") && d.status().equals("delivered")),
          "run.waiting delivered after the restart");
      List<Received> waiting =
          received.stream().filter(r -> "run.waiting".equals(r.event())).toList();
      assertThat(waiting).isNotEmpty();
      assertThat(waiting)
          .extracting(Received::delivery)
          .containsOnly(waiting.getFirst().delivery());
      waiting.forEach(WebhookIT::verifySignature);
    }
  }
}
