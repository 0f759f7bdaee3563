package dev.keel.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Remembers the answer to each {@code Idempotency-Key} of a tenant and route for 24 hours: the same
 * key with the same body gets the first answer again; with another body, 409. A request racing the
 * first with the same key waits for it.
 *
 * <p>Implementation notes. The cache is in memory, bounded, and lost on restart. Run creation is
 * also deduplicated by the store (the key is the run's idempotency key, guarantee G7), so after a
 * restart a repeated create still returns the same run; only the 409 for a different body needs
 * this cache.
 */
final class IdempotencyCache {
  private static final Duration TTL = Duration.ofHours(24);
  private static final int MAX_ENTRIES = 100_000;

  private static final class Entry {
    final String bodyHash;
    final long createdNanos;
    final CountDownLatch done = new CountDownLatch(1);
    volatile Reply reply;

    Entry(String bodyHash, long createdNanos) {
      this.bodyHash = bodyHash;
      this.createdNanos = createdNanos;
    }
  }

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final LongSupplier nanos;

  IdempotencyCache(LongSupplier nanos) {
    this.nanos = nanos;
  }

  /** Work a route does when its key is new. */
  @FunctionalInterface
  interface Work {
    /** Computes the answer. */
    Reply get() throws Exception;
  }

  /** The answer for {@code scope} + {@code key}: remembered, or computed now by {@code work}. */
  Reply run(String scope, String key, String bodyHash, Work work) throws Exception {
    if (!key.matches("[\\x21-\\x7E]{1,255}")) {
      throw ApiException.invalid(
          "Idempotency-Key", "must be 1 to 255 printable ASCII characters without spaces");
    }
    String id = scope + "\n" + key;
    long now = nanos.getAsLong();
    Entry mine = new Entry(bodyHash, now);
    for (int attempt = 0; attempt < 3; attempt++) {
      Entry existing = entries.putIfAbsent(id, mine);
      if (existing == null) {
        return compute(id, mine, work);
      }
      if (now - existing.createdNanos > TTL.toNanos()) {
        entries.remove(id, existing);
        continue;
      }
      if (!existing.bodyHash.equals(bodyHash)) {
        throw new ApiException(
            409,
            "idempotency_key_reused",
            "Idempotency key reused",
            "the Idempotency-Key '"
                + key
                + "' was used with a different request body; use a new key for a new request");
      }
      if (!existing.done.await(60, TimeUnit.SECONDS)) {
        throw new ApiException(
            409,
            "idempotency_key_in_use",
            "Idempotency key in use",
            "a request with this Idempotency-Key is still being processed; retry later");
      }
      Reply r = existing.reply;
      if (r != null) {
        return r;
      }
      entries.remove(id, existing);
    }
    return work.get();
  }

  private Reply compute(String id, Entry mine, Work work) throws Exception {
    try {
      Reply r = work.get();
      if (r.status() < 500 && r.status() != 429) {
        mine.reply = r;
      } else {
        entries.remove(id, mine);
      }
      return r;
    } catch (ApiException x) {
      if (x.status() < 500 && x.status() != 429) {
        mine.reply = new Reply(x.status(), x.problem(java.util.Optional.empty()));
      } else {
        entries.remove(id, mine);
      }
      throw x;
    } catch (Exception | Error x) {
      entries.remove(id, mine);
      throw x;
    } finally {
      mine.done.countDown();
      if (entries.size() > MAX_ENTRIES) {
        evictExpired();
      }
    }
  }

  private void evictExpired() {
    long now = nanos.getAsLong();
    entries.values().removeIf(e -> now - e.createdNanos > TTL.toNanos());
  }
}
