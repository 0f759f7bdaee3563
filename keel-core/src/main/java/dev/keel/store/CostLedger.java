package dev.keel.store;

/**
 * Cost budgets shared by many runs, such as a tenant's monthly budget: the engine reserves the
 * worst-case cost of a model call before making it and settles the real cost after, so concurrent
 * runs can never spend more than the budget together.
 *
 * <p>Both operations are idempotent per reservation id, so a run that crashed after reserving and
 * re-executes the same step does not reserve twice.
 */
public interface CostLedger {

  /** A ledger without limits: every reservation is granted and nothing is kept. */
  CostLedger UNLIMITED =
      new CostLedger() {
        @Override
        public boolean reserve(String tenant, String runId, String reservationId, long micros) {
          return true;
        }

        @Override
        public void settle(String tenant, String reservationId, long actualMicros) {}
      };

  /**
   * Reserves {@code micros} of {@code tenant}'s budget for a call of {@code runId}.
   *
   * @return true if granted (or already granted under {@code reservationId}); false if the budget
   *     cannot cover it, in which case nothing was reserved
   */
  boolean reserve(String tenant, String runId, String reservationId, long micros);

  /**
   * Replaces the reservation with the real cost {@code actualMicros}; a second settle of the same
   * reservation does nothing.
   */
  void settle(String tenant, String reservationId, long actualMicros);
}
