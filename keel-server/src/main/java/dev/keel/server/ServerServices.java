package dev.keel.server;

import dev.keel.store.Admissions;
import dev.keel.store.IdempotencyStore;
import dev.keel.store.RunQuery;
import dev.keel.store.WebhookStore;
import java.util.Objects;
import java.util.Optional;

/**
 * What the API keeps beside the run store, and its webhook and quota policy. A deployment passes
 * the JDBC adapters; {@link #inMemory()} is for tests and the in-memory store.
 *
 * @param idempotency where {@code Idempotency-Key} answers are kept
 * @param runs the run list; empty to scan the store's rows (in-memory store only)
 * @param webhooks subscriptions, deliveries and attempts; empty refuses webhooks
 * @param policy webhook signing and quotas
 * @param admissions atomic admission against runs per day and unfinished runs per key, shared by
 *     every server on the database; empty to count in this process (in-memory store only)
 */
public record ServerServices(
    IdempotencyStore idempotency,
    Optional<RunQuery> runs,
    Optional<WebhookStore> webhooks,
    ApiPolicy policy,
    Optional<Admissions> admissions) {
  /** Checks the fields are present. */
  public ServerServices {
    Objects.requireNonNull(idempotency, "idempotency");
    Objects.requireNonNull(runs, "runs");
    Objects.requireNonNull(webhooks, "webhooks");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(admissions, "admissions");
  }

  /** Answers in memory, runs listed by scanning, no webhooks, no quotas. */
  public static ServerServices inMemory() {
    return new ServerServices(
        new InMemoryIdempotencyStore(),
        Optional.empty(),
        Optional.empty(),
        ApiPolicy.DEFAULT,
        Optional.empty());
  }

  /** The durable adapters, with {@code policy}. */
  public static ServerServices of(
      IdempotencyStore idempotency, RunQuery runs, WebhookStore webhooks, ApiPolicy policy) {
    return new ServerServices(
        idempotency, Optional.of(runs), Optional.of(webhooks), policy, Optional.empty());
  }

  /** A copy admitting runs through {@code a} (atomic across server processes). */
  public ServerServices withAdmissions(Admissions a) {
    return new ServerServices(idempotency, runs, webhooks, policy, Optional.of(a));
  }

  /** A copy with another policy. */
  public ServerServices withPolicy(ApiPolicy p) {
    return new ServerServices(idempotency, runs, webhooks, p, admissions);
  }
}
