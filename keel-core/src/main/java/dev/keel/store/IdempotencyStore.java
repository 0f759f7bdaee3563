package dev.keel.store;

import java.time.Duration;
import java.time.Instant;

/**
 * Durable answers to {@code Idempotency-Key} requests: the first request with a key records its
 * request hash and, when done, its response; a later request with the same key gets that response
 * again, or learns that the key was used for another request.
 *
 * <p>Implementation notes: the contract every adapter keeps.
 *
 * <ul>
 *   <li>An entry is identified by (tenant, scope, key); the scope is the method and path.
 *   <li>{@link #begin} is atomic: of many callers racing with the same entry, exactly one gets
 *       {@link Begin.Started}; the others see {@link Begin.InFlight} until it completes.
 *   <li>An in-flight entry whose lock has passed (its owner crashed) may be taken over by the next
 *       caller with the same request hash.
 *   <li>An entry older than the time to live is forgotten: the next caller starts afresh.
 * </ul>
 */
public interface IdempotencyStore {

  /** What {@link #begin} found. */
  sealed interface Begin {
    /** The caller owns the entry and must {@link #complete} or {@link #release} it. */
    record Started() implements Begin {}

    /**
     * The entry has a response: send it again.
     *
     * @param status the HTTP status
     * @param body the response body as sent
     */
    record Replay(int status, String body) implements Begin {}

    /** The key was used with another request body. */
    record Mismatch() implements Begin {}

    /** Another caller is working on the same request; ask again shortly. */
    record InFlight() implements Begin {}
  }

  /**
   * Starts or finds the entry of {@code key}.
   *
   * @param tenant the caller's tenant
   * @param scope method and path
   * @param key the client's key
   * @param requestHash a hash of the canonical request body
   * @param now the current time
   * @param ttl how long an entry is remembered
   * @param lock how long an in-flight entry is protected from takeover
   */
  Begin begin(
      String tenant,
      String scope,
      String key,
      String requestHash,
      Instant now,
      Duration ttl,
      Duration lock);

  /** Records the response of an entry this caller {@link Begin.Started}. */
  void complete(String tenant, String scope, String key, int status, String body);

  /** Forgets an entry this caller started and will not complete (a 5xx, a 429). */
  void release(String tenant, String scope, String key);

  /** Deletes entries created before {@code before}; returns how many. */
  int purge(Instant before);
}
