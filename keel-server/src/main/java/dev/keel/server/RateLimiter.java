package dev.keel.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/** Token buckets per key and per tenant; an empty bucket answers 429 naming the limit. */
final class RateLimiter {
  private final double keyRate;
  private final int keyBurst;
  private final double tenantRate;
  private final int tenantBurst;
  private final LongSupplier nanos;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  RateLimiter(ServerConfig cfg, LongSupplier nanos) {
    this.keyRate = cfg.keyRate();
    this.keyBurst = cfg.keyBurst();
    this.tenantRate = cfg.tenantRate();
    this.tenantBurst = cfg.tenantBurst();
    this.nanos = nanos;
  }

  private final class Bucket {
    private final ReentrantLock lock = new ReentrantLock();
    private final double rate;
    private final int burst;
    private double tokens;
    private long last;

    Bucket(double rate, int burst) {
      this.rate = rate;
      this.burst = burst;
      this.tokens = burst;
      this.last = nanos.getAsLong();
    }

    /** Takes one token; returns 0, or the seconds until one is available. */
    double take() {
      lock.lock();
      try {
        long now = nanos.getAsLong();
        tokens = Math.min(burst, tokens + (now - last) / 1e9 * rate);
        last = now;
        if (tokens >= 1) {
          tokens -= 1;
          return 0;
        }
        return (1 - tokens) / rate;
      } finally {
        lock.unlock();
      }
    }
  }

  /** Charges one request to {@code keyId} and {@code tenant}, or throws 429. */
  void charge(String keyId, String tenant) {
    double wait = buckets.computeIfAbsent("k:" + keyId, k -> new Bucket(keyRate, keyBurst)).take();
    if (wait > 0) {
      throw limited("limits.key-rate", keyRate + " requests/s for API key " + keyId, wait);
    }
    wait = buckets.computeIfAbsent("t:" + tenant, k -> new Bucket(tenantRate, tenantBurst)).take();
    if (wait > 0) {
      throw limited("limits.tenant-rate", tenantRate + " requests/s for tenant " + tenant, wait);
    }
  }

  private static ApiException limited(String limit, String what, double waitSeconds) {
    long retry = Math.max(1, (long) Math.ceil(waitSeconds));
    return new ApiException(
            429,
            "rate_limited",
            "Too many requests",
            "rate limit " + limit + " (" + what + ") exceeded; retry after " + retry + " s")
        .withHeader("Retry-After", Long.toString(retry));
  }
}
