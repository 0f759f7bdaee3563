package dev.keel.server;

import dev.keel.json.JsonValue;
import dev.keel.run.EventEnvelope;
import dev.keel.store.RunStore;
import dev.keel.store.WebhookStore;
import dev.keel.store.WebhookStore.Attempt;
import dev.keel.store.WebhookStore.Delivery;
import dev.keel.store.WebhookStore.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers webhooks from the durable event log, outbox style. Each pass (1) turns new {@code
 * run.waiting} and terminal events of subscribed runs into delivery rows and moves each run's
 * cursor in the same transaction, then (2) leases due deliveries and POSTs each, signed, recording
 * every attempt; a failure is retried with exponential backoff up to {@code webhooks.max-attempts}.
 *
 * <p>Implementation notes. Nothing is kept in memory between passes: a crash or restart between an
 * event and its delivery, or during a delivery, leaves the rows as they were and the next pass (of
 * this or another server) finishes the work. Delivery is at least once: a receiver deduplicates by
 * the {@code Keel-Delivery} header. The signature is {@code Keel-Signature: t=<unix>,v1=<hex>}, the
 * HMAC-SHA256 of {@code <unix>.<body>} with the deployment's {@code webhooks.secret}.
 */
final class WebhookDispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);
  static final Set<String> TERMINAL =
      Set.of("run.completed", "run.failed", "run.cancelled", "run.timed_out");
  private static final Duration MAX_BACKOFF = Duration.ofHours(1);

  private final RunStore runs;
  private final WebhookStore hooks;
  private final ApiPolicy policy;
  private final InstantSource clock;
  private final Duration poll;
  private final WebhookUrls.Resolver resolver;
  private volatile boolean closed;
  private Thread thread;
  private final Set<Thread> sending = java.util.concurrent.ConcurrentHashMap.newKeySet();

  WebhookDispatcher(
      RunStore runs, WebhookStore hooks, ApiPolicy policy, InstantSource clock, Duration poll) {
    this(runs, hooks, policy, clock, poll, WebhookUrls.Resolver.SYSTEM);
  }

  /** A dispatcher looking hosts up with {@code resolver} (tests: a scripted DNS). */
  WebhookDispatcher(
      RunStore runs,
      WebhookStore hooks,
      ApiPolicy policy,
      InstantSource clock,
      Duration poll,
      WebhookUrls.Resolver resolver) {
    this.resolver = resolver;
    this.runs = runs;
    this.hooks = hooks;
    this.policy = policy;
    this.clock = clock;
    this.poll = poll;
  }

  /** Starts the background loop; returns this. */
  WebhookDispatcher start() {
    thread = Thread.ofPlatform().daemon().name("keel-webhooks").start(this::loop);
    return this;
  }

  private void loop() {
    while (!closed) {
      try {
        pass();
      } catch (RuntimeException x) {
        LOG.warn("webhook pass failed; retrying", x);
      } catch (InterruptedException x) {
        return;
      }
      try {
        Thread.sleep(poll);
      } catch (InterruptedException x) {
        return;
      }
    }
  }

  /** One pass: enqueue new events, then deliver what is due. */
  void pass() throws InterruptedException {
    scan();
    deliver();
  }

  private void scan() {
    for (Subscription s : hooks.open(200)) {
      List<EventEnvelope> events = runs.events(s.runId(), s.scannedSeq(), 256);
      if (events.isEmpty()) {
        continue;
      }
      List<Delivery> out = new ArrayList<>();
      boolean done = false;
      for (EventEnvelope e : events) {
        String type = e.event().type();
        if (type.equals("run.waiting") || TERMINAL.contains(type)) {
          String id = "whd_" + s.runId().value() + "_" + e.seq();
          String body =
              JsonValue.object(
                      "id", id,
                      "type", type,
                      "run_id", s.runId().value(),
                      "sequence", e.seq(),
                      "created_at", e.at().toString(),
                      "data", Wire.event(e).get("data").orElse(JsonValue.NULL))
                  .toString();
          out.add(
              new Delivery(id, s.tenant(), s.runId(), e.seq(), type, s.url(), body, "pending", 0));
        }
        done |= TERMINAL.contains(type);
      }
      hooks.enqueue(s.runId(), events.getLast().seq(), out, done, clock.instant());
    }
  }

  private void deliver() throws InterruptedException {
    List<Delivery> due = hooks.due(clock.instant(), policy.webhookLease(), 32);
    List<Thread> started = new ArrayList<>();
    for (Delivery d : due) {
      Thread t = Thread.ofVirtual().unstarted(() -> send(d));
      sending.add(t);
      started.add(t);
      t.start();
    }
    try {
      for (Thread t : started) {
        t.join();
      }
    } finally {
      sending.removeAll(started);
    }
  }

  private void send(Delivery d) {
    int attempt = d.attempts() + 1;
    Instant start = clock.instant();
    long t0 = System.nanoTime();
    int status = 0;
    String error = "";
    // Resolved once and checked; the request goes to exactly the checked address (no rebinding).
    Object checked = WebhookUrls.check(d.url(), policy.webhookAllowPrivate(), resolver);
    Optional<String> blocked =
        checked instanceof String p ? Optional.of(p) : Optional.<String>empty();
    if (checked instanceof WebhookUrls.Target target) {
      try {
        long unix = start.getEpochSecond();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("User-Agent", "Keel-Webhooks/1");
        headers.put("Keel-Delivery", d.id());
        headers.put("Keel-Event", d.type());
        headers.put("Keel-Signature", signature(policy.webhookSecret(), unix, d.body()));
        status =
            PinnedPost.post(
                target.uri(),
                target.address(),
                headers,
                d.body(),
                Duration.ofSeconds(5),
                Duration.ofSeconds(10));
        if (status < 200 || status > 299) {
          error = "the receiver answered " + status;
        }
      } catch (java.io.IOException | IllegalArgumentException x) {
        error = x.getClass().getSimpleName() + ": " + x.getMessage();
      }
      if (Thread.currentThread().isInterrupted()) {
        return; // shutting down: the lease lapses and the next pass retries
      }
    } else {
      error = "the URL " + blocked.orElseThrow();
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    Attempt a = new Attempt(d.id(), attempt, start, status, error, ms);
    if (error.isEmpty()) {
      hooks.record(a, "delivered", Optional.empty());
    } else if (attempt >= policy.webhookMaxAttempts() || blocked.isPresent()) {
      LOG.warn(
          "webhook {} to {} failed for good after {} attempts: {}",
          d.id(),
          d.url(),
          attempt,
          error);
      hooks.record(a, "failed", Optional.empty());
    } else {
      hooks.record(a, "pending", Optional.of(clock.instant().plus(backoff(attempt))));
    }
  }

  /** The wait after failed attempt {@code n}: backoff × 2^(n-1), at most an hour. */
  Duration backoff(int n) {
    Duration d = policy.webhookBackoff().multipliedBy(1L << Math.min(20, n - 1));
    return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
  }

  /** {@code t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">}. */
  static String signature(String secret, long unix, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] h = mac.doFinal((unix + "." + body).getBytes(StandardCharsets.UTF_8));
      return "t=" + unix + ",v1=" + HexFormat.of().formatHex(h);
    } catch (java.security.GeneralSecurityException x) {
      throw new IllegalStateException("HmacSHA256 is not available", x);
    }
  }

  @Override
  public void close() {
    closed = true;
    sending.forEach(Thread::interrupt);
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(5_000);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
