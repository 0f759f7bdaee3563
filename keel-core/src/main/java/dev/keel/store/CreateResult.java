package dev.keel.store;

import dev.keel.run.RunId;

/**
 * The outcome of a create.
 *
 * @param runId the run: the new one, or the existing one with the same idempotency key
 * @param existing whether the run already existed
 */
public record CreateResult(RunId runId, boolean existing) {}
