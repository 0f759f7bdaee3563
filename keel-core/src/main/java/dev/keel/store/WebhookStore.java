package dev.keel.store;

import dev.keel.run.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The durable side of webhooks: which runs want them, how far each run's event log has been turned
 * into deliveries (an outbox cursor), and every delivery with each attempt.
 *
 * <p>Implementation notes: the contract every adapter keeps. {@link #enqueue} writes the deliveries
 * and moves the cursor in one transaction, and a delivery's id is unique, so a crash anywhere
 * between an event and its delivery loses nothing and duplicates nothing. {@link #due} leases the
 * deliveries it returns, so two dispatchers never send the same delivery at once.
 */
public interface WebhookStore {

  /**
   * A run that wants webhooks.
   *
   * @param runId the run
   * @param tenant its tenant
   * @param url where to POST
   * @param scannedSeq the last event sequence already turned into deliveries
   */
  record Subscription(RunId runId, String tenant, String url, long scannedSeq) {}

  /**
   * One event to deliver.
   *
   * @param id unique: run id and sequence
   * @param tenant the run's tenant
   * @param runId the run
   * @param seq the event's sequence
   * @param type the event's type
   * @param url where to POST
   * @param body the JSON body, fixed when enqueued
   * @param status {@code pending}, {@code delivered} or {@code failed}
   * @param attempts attempts made so far
   */
  record Delivery(
      String id,
      String tenant,
      RunId runId,
      long seq,
      String type,
      String url,
      String body,
      String status,
      int attempts) {
    /** Checks the fields are present. */
    public Delivery {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(body, "body");
    }
  }

  /**
   * One delivery attempt as recorded.
   *
   * @param deliveryId the delivery
   * @param attempt 1 for the first
   * @param at when it was made
   * @param httpStatus the receiver's status, or 0 if there was no answer
   * @param error what went wrong, empty on success
   * @param durationMs how long it took
   */
  record Attempt(
      String deliveryId, int attempt, Instant at, int httpStatus, String error, long durationMs) {}

  /** Records that {@code runId} of {@code tenant} wants webhooks at {@code url}; idempotent. */
  void subscribe(String tenant, RunId runId, String url, Instant now);

  /** Subscriptions whose runs may still produce deliveries, oldest first. */
  List<Subscription> open(int limit);

  /**
   * In one transaction: inserts {@code deliveries} (ignoring ids already present), moves the cursor
   * of {@code runId} to {@code scannedThrough} (never backwards) and closes the subscription when
   * {@code done}.
   */
  void enqueue(
      RunId runId, long scannedThrough, List<Delivery> deliveries, boolean done, Instant now);

  /** Pending deliveries due by {@code now}, leased for {@code lease}, oldest first. */
  List<Delivery> due(Instant now, Duration lease, int limit);

  /**
   * Records attempt {@code attempt} of a delivery and its new state: delivered, failed for good, or
   * pending again at {@code retryAt}.
   */
  void record(Attempt attempt, String newStatus, Optional<Instant> retryAt);

  /** Every delivery of {@code runId}, by sequence. */
  List<Delivery> deliveries(RunId runId);

  /** Every attempt of a delivery, in order. */
  List<Attempt> attempts(String deliveryId);
}
