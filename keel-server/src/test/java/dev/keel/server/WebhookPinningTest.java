package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.store.RunStore;
import dev.keel.store.WebhookStore.Attempt;
import dev.keel.store.WebhookStore.Delivery;
import dev.keel.store.jdbc.JdbcWebhookStore;
import dev.keel.store.jdbc.SideDb;
import dev.keel.store.jdbc.Stores;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook address is resolved once, checked, and the request goes to exactly that address: a
 * DNS answer that changes after the check (rebinding) is never connected to. A real receiver on
 * loopback, a real SQLite webhook store and a scripted resolver whose second answer is a different
 * (unroutable) address.
 */
class WebhookPinningTest {
  @TempDir Path dir;
  HttpServer receiver;
  final List<String> hosts = new CopyOnWriteArrayList<>();
  final List<String> bodies = new CopyOnWriteArrayList<>();
  RunStore store;
  SideDb side;

  @BeforeEach
  void start() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext(
        "/hook",
        ex -> {
          hosts.add(ex.getRequestHeaders().getFirst("Host"));
          bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          ex.sendResponseHeaders(ex.getRequestURI().getQuery() == null ? 204 : 503, -1);
          ex.close();
        });
    receiver.start();
    String url = "jdbc:sqlite:" + Files.createDirectories(dir).resolve("keel.db");
    store = Stores.open(url, FaultInjector.NONE);
    side = SideDb.open(url, "", "", 2);
  }

  @AfterEach
  void stop() {
    receiver.stop(0);
    side.close();
    store.close();
  }

  /** Answers loopback first, then an unroutable address: a second lookup would go elsewhere. */
  static final class Rebinding implements WebhookUrls.Resolver {
    final AtomicInteger calls = new AtomicInteger();
    final InetAddress first;

    Rebinding(InetAddress first) {
      this.first = first;
    }

    @Override
    public InetAddress[] resolve(String host) throws java.net.UnknownHostException {
      return calls.getAndIncrement() == 0
          ? new InetAddress[] {first}
          : new InetAddress[] {InetAddress.getByName("10.255.255.1")};
    }
  }

  private List<Attempt> deliverOnce(String url, boolean allowPrivate, WebhookUrls.Resolver r)
      throws Exception {
    JdbcWebhookStore hooks = new JdbcWebhookStore(side);
    RunId run = RunId.of("run_pinned");
    Instant now = Instant.now();
    hooks.subscribe("acme", run, url, now);
    hooks.enqueue(
        run,
        3,
        List.of(
            new Delivery(
                "whd_run_pinned_3",
                "acme",
                run,
                3,
                "run.completed",
                url,
                "{\"type\":\"run.completed\"}",
                "pending",
                0)),
        true,
        now);
    ApiPolicy policy =
        ApiPolicy.DEFAULT.withWebhooks(
            "s3cret", allowPrivate, Duration.ofMinutes(10), 5, Duration.ofSeconds(30));
    try (WebhookDispatcher d =
        new WebhookDispatcher(
            store, hooks, policy, InstantSource.system(), Duration.ofMillis(100), r)) {
      d.pass();
    }
    return hooks.attempts("whd_run_pinned_3");
  }

  @Test
  void theRequestGoesToTheCheckedAddressNotToASecondLookup() throws Exception {
    int port = receiver.getAddress().getPort();
    Rebinding dns = new Rebinding(InetAddress.getLoopbackAddress());
    String url = "http://hooks.example.test:" + port + "/hook";
    List<Attempt> attempts = deliverOnce(url, true, dns);
    assertThat(attempts).singleElement().satisfies(a -> assertThat(a.httpStatus()).isEqualTo(204));
    assertThat(dns.calls).hasValue(1);
    assertThat(hosts).containsExactly("hooks.example.test:" + port);
    assertThat(bodies).containsExactly("{\"type\":\"run.completed\"}");
  }

  @Test
  void aNameThatResolvesToAPrivateAddressIsRefusedWithoutAConnection() throws Exception {
    Rebinding dns = new Rebinding(InetAddress.getLoopbackAddress());
    String url = "https://hooks.example.test:" + receiver.getAddress().getPort() + "/hook";
    List<Attempt> attempts = deliverOnce(url, false, dns);
    assertThat(attempts)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.httpStatus()).isZero();
              assertThat(a.error()).contains("resolves to 127.0.0.1").contains("public hosts");
            });
    assertThat(hosts).isEmpty();
  }

  @Test
  void thePinnedPostReadsTheStatusAndRefusesHeaderInjection() throws Exception {
    int port = receiver.getAddress().getPort();
    URI uri = URI.create("http://hooks.example.test:" + port + "/hook?fail=1");
    assertThat(
            PinnedPost.post(
                uri,
                InetAddress.getLoopbackAddress(),
                Map.of("Keel-Event", "run.completed"),
                "{}",
                Duration.ofSeconds(5),
                Duration.ofSeconds(10)))
        .isEqualTo(503);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                PinnedPost.post(
                    uri,
                    InetAddress.getLoopbackAddress(),
                    Map.of("Keel-Event", "x\r\nEvil: 1"),
                    "{}",
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Keel-Event");
  }
}
