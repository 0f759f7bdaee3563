package dev.keel.server;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.store.IdempotencyStore;
import dev.keel.store.IdempotencyStore.Begin;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;

/**
 * Answers each {@code Idempotency-Key} of a tenant and route once for 24 hours: the same key with
 * the same body gets the first answer again (status and body as stored); with another body, 409
 * {@code idempotency_key_reused}. A request racing the first with the same key waits for it.
 *
 * <p>Implementation notes. The answers live in an {@link IdempotencyStore}: durable in the store's
 * database in a real deployment, so they survive restarts and are shared by every server of a
 * PostgreSQL deployment. Server errors and 429s are not remembered: the entry is released so a
 * retry runs again. An entry whose owner died while working is taken over after {@link #LOCK}.
 */
final class IdempotencyGate {
  static final Duration TTL = Duration.ofHours(24);
  static final Duration LOCK = Duration.ofSeconds(30);
  private static final long WAIT_NANOS = Duration.ofSeconds(60).toNanos();

  private static final Duration PURGE_EVERY = Duration.ofHours(1);
  private final IdempotencyStore store;
  private final InstantSource clock;
  private final java.util.concurrent.atomic.AtomicLong lastPurge =
      new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);

  IdempotencyGate(IdempotencyStore store, InstantSource clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Work a route does when its key is new. */
  @FunctionalInterface
  interface Work {
    /** Computes the answer. */
    Reply get() throws Exception;
  }

  /** The answer for {@code tenant}, {@code scope} and {@code key}: stored, or computed now. */
  Reply run(String tenant, String scope, String key, String bodyHash, Work work) throws Exception {
    if (!key.matches("[\\x21-\\x7E]{1,255}")) {
      throw ApiException.invalid(
          "Idempotency-Key", "must be 1 to 255 printable ASCII characters without spaces");
    }
    purgeNowAndThen();
    long start = System.nanoTime();
    long sleep = 5;
    while (true) {
      Begin b = store.begin(tenant, scope, key, bodyHash, clock.instant(), TTL, LOCK);
      switch (b) {
        case Begin.Started s -> {
          return compute(tenant, scope, key, work);
        }
        case Begin.Replay r -> {
          return new Reply(r.status(), JsonParser.parse(r.body()));
        }
        case Begin.Mismatch m ->
            throw new ApiException(
                409,
                "idempotency_key_reused",
                "Idempotency key reused",
                "the Idempotency-Key '"
                    + key
                    + "' was used with a different request body; use a new key for a new request");
        case Begin.InFlight f -> {
          if (System.nanoTime() - start > WAIT_NANOS) {
            throw new ApiException(
                409,
                "idempotency_key_in_use",
                "Idempotency key in use",
                "a request with this Idempotency-Key is still being processed; retry later");
          }
          Thread.sleep(sleep);
          sleep = Math.min(100, sleep * 2);
        }
      }
    }
  }

  /** Deletes answers older than {@link #TTL}, at most once an hour per server. */
  private void purgeNowAndThen() {
    long now = clock.millis();
    long last = lastPurge.get();
    if ((last == Long.MIN_VALUE || now - last >= PURGE_EVERY.toMillis())
        && lastPurge.compareAndSet(last, now)) {
      store.purge(clock.instant().minus(TTL));
    }
  }

  private Reply compute(String tenant, String scope, String key, Work work) throws Exception {
    boolean done = false;
    try {
      Reply r = work.get();
      if (r.status() < 500 && r.status() != 429) {
        store.complete(tenant, scope, key, r.status(), r.body().toString());
        done = true;
      }
      return r;
    } catch (ApiException x) {
      if (x.status() < 500 && x.status() != 429) {
        JsonValue problem = x.problem(Optional.empty());
        store.complete(tenant, scope, key, x.status(), problem.toString());
        done = true;
      }
      throw x;
    } finally {
      if (!done) {
        store.release(tenant, scope, key);
      }
    }
  }
}
