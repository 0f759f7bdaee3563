package dev.keel.server;

import dev.keel.store.IdempotencyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link IdempotencyStore} in memory, for servers over the in-memory run store: lost on restart.
 * Bounded: above {@value #MAX} entries, expired ones are dropped.
 */
final class InMemoryIdempotencyStore implements IdempotencyStore {
  private static final int MAX = 100_000;

  private static final class Entry {
    final String hash;
    final long created;
    long lockedUntil;
    Integer status;
    String body;

    Entry(String hash, long created, long lockedUntil) {
      this.hash = hash;
      this.created = created;
      this.lockedUntil = lockedUntil;
    }
  }

  private final Map<String, Entry> entries = new HashMap<>();
  private long ttlMs = Duration.ofHours(24).toMillis();

  private static String id(String tenant, String scope, String key) {
    return tenant + "\n" + scope + "\n" + key;
  }

  @Override
  public synchronized Begin begin(
      String tenant,
      String scope,
      String key,
      String requestHash,
      Instant now,
      Duration ttl,
      Duration lock) {
    long ms = now.toEpochMilli();
    ttlMs = ttl.toMillis();
    String id = id(tenant, scope, key);
    Entry e = entries.get(id);
    if (e != null && e.created + ttl.toMillis() <= ms) {
      entries.remove(id);
      e = null;
    }
    if (e == null) {
      if (entries.size() >= MAX) {
        purge(Instant.ofEpochMilli(ms - ttlMs));
      }
      entries.put(id, new Entry(requestHash, ms, ms + lock.toMillis()));
      return new Begin.Started();
    }
    if (!e.hash.equals(requestHash)) {
      return new Begin.Mismatch();
    }
    if (e.status != null) {
      return new Begin.Replay(e.status, e.body);
    }
    if (e.lockedUntil <= ms) {
      e.lockedUntil = ms + lock.toMillis();
      return new Begin.Started();
    }
    return new Begin.InFlight();
  }

  @Override
  public synchronized void complete(
      String tenant, String scope, String key, int status, String body) {
    Entry e = entries.get(id(tenant, scope, key));
    if (e != null && e.status == null) {
      e.status = status;
      e.body = body;
    }
  }

  @Override
  public synchronized void release(String tenant, String scope, String key) {
    String id = id(tenant, scope, key);
    Entry e = entries.get(id);
    if (e != null && e.status == null) {
      entries.remove(id);
    }
  }

  @Override
  public synchronized int purge(Instant before) {
    int n = entries.size();
    long b = before.toEpochMilli();
    entries.values().removeIf(e -> e.created < b);
    return n - entries.size();
  }
}
