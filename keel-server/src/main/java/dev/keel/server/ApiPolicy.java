package dev.keel.server;

import java.time.Duration;
import java.util.Objects;

/**
 * Webhook and quota settings of the API, each named by its configuration key. A limit of 0 means
 * unlimited.
 *
 * @param webhookSecret the HMAC-SHA256 signing secret of webhooks ({@code webhooks.secret}, a
 *     reference); empty refuses webhooks
 * @param webhookAllowPrivate whether webhook URLs may be plain http or resolve to loopback or
 *     private addresses ({@code webhooks.allow-private}; for tests and closed networks)
 * @param webhookBackoff the wait before the first retry, doubled after each ({@code
 *     webhooks.backoff})
 * @param webhookMaxAttempts attempts before a delivery is given up ({@code webhooks.max-attempts})
 * @param webhookLease how long a dispatcher owns a delivery it is sending; after a crash another
 *     takes it over once this passes ({@code webhooks.lease})
 * @param runsPerDay runs one tenant may create per UTC day ({@code quotas.runs-per-day})
 * @param concurrentRunsPerUser unfinished runs one API key may have at once ({@code
 *     quotas.concurrent-runs-per-user})
 * @param queueDepth queued runs the deployment accepts before refusing new ones ({@code
 *     quotas.queue-depth})
 * @param fourEyes whether the API key that created a run is refused when it decides one of that
 *     run's approvals ({@code approvals.four-eyes}; off by default so a single-user install works)
 */
public record ApiPolicy(
    String webhookSecret,
    boolean webhookAllowPrivate,
    Duration webhookBackoff,
    int webhookMaxAttempts,
    Duration webhookLease,
    long runsPerDay,
    int concurrentRunsPerUser,
    int queueDepth,
    boolean fourEyes) {

  /** A policy without four-eyes approvals. */
  public ApiPolicy(
      String webhookSecret,
      boolean webhookAllowPrivate,
      Duration webhookBackoff,
      int webhookMaxAttempts,
      Duration webhookLease,
      long runsPerDay,
      int concurrentRunsPerUser,
      int queueDepth) {
    this(
        webhookSecret,
        webhookAllowPrivate,
        webhookBackoff,
        webhookMaxAttempts,
        webhookLease,
        runsPerDay,
        concurrentRunsPerUser,
        queueDepth,
        false);
  }

  /** A copy with four-eyes approvals on or off. */
  public ApiPolicy withFourEyes(boolean on) {
    return new ApiPolicy(
        webhookSecret,
        webhookAllowPrivate,
        webhookBackoff,
        webhookMaxAttempts,
        webhookLease,
        runsPerDay,
        concurrentRunsPerUser,
        queueDepth,
        on);
  }

  /** No webhooks, no quotas. */
  public static final ApiPolicy DEFAULT =
      new ApiPolicy("", false, Duration.ofSeconds(1), 8, Duration.ofSeconds(30), 0, 0, 0);

  /** Checks the bounds. */
  public ApiPolicy {
    Objects.requireNonNull(webhookSecret, "webhookSecret");
    if (webhookBackoff.isNegative() || webhookBackoff.isZero()) {
      throw new IllegalArgumentException("webhooks.backoff must be positive");
    }
    if (webhookLease.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("webhooks.lease must be at least 1s");
    }
    if (webhookMaxAttempts < 1) {
      throw new IllegalArgumentException("webhooks.max-attempts must be at least 1");
    }
    if (runsPerDay < 0 || concurrentRunsPerUser < 0 || queueDepth < 0) {
      throw new IllegalArgumentException("quotas.* must be 0 (unlimited) or positive");
    }
  }

  /** A copy with webhooks signed by {@code secret}. */
  public ApiPolicy withWebhooks(
      String secret, boolean allowPrivate, Duration backoff, int maxAttempts, Duration lease) {
    return new ApiPolicy(
        secret,
        allowPrivate,
        backoff,
        maxAttempts,
        lease,
        runsPerDay,
        concurrentRunsPerUser,
        queueDepth);
  }

  /** A copy with these quotas. */
  public ApiPolicy withQuotas(long perDay, int perUser, int depth) {
    return new ApiPolicy(
        webhookSecret,
        webhookAllowPrivate,
        webhookBackoff,
        webhookMaxAttempts,
        webhookLease,
        perDay,
        perUser,
        depth);
  }
}
