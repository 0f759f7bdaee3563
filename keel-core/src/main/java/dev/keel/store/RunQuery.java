package dev.keel.store;

import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Lists the runs of one tenant, filtered and paged newest first by keyset: a page continues
 * strictly after the position of the last row of the previous page, so pages have no gaps and no
 * duplicates however many runs are created meanwhile.
 */
public interface RunQuery {

  /**
   * Which runs to list.
   *
   * @param tenant the tenant (always required)
   * @param status only runs with this status
   * @param agent only runs of this agent
   * @param threadId only runs of this thread
   */
  record Filter(
      String tenant,
      Optional<RunStatus> status,
      Optional<String> agent,
      Optional<String> threadId) {
    /** Checks the fields are present. */
    public Filter {
      Objects.requireNonNull(tenant, "tenant");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(threadId, "threadId");
    }

    /** Every run of {@code tenant}. */
    public static Filter tenant(String tenant) {
      return new Filter(tenant, Optional.empty(), Optional.empty(), Optional.empty());
    }
  }

  /**
   * A place in newest-first order.
   *
   * @param createdAt the creation time of a run, as the store keeps it
   * @param runId that run
   */
  record Position(Instant createdAt, RunId runId) {
    /** Checks the fields are present. */
    public Position {
      Objects.requireNonNull(createdAt, "createdAt");
      Objects.requireNonNull(runId, "runId");
    }

    /** The position of {@code row}. */
    public static Position of(RunRow row) {
      return new Position(row.createdAt(), row.runId());
    }
  }

  /**
   * One page.
   *
   * @param rows the runs, newest first
   * @param next where the next page starts, if there may be one
   */
  record Page(List<RunRow> rows, Optional<Position> next) {
    /** Copies the list. */
    public Page {
      rows = List.copyOf(rows);
      Objects.requireNonNull(next, "next");
    }
  }

  /**
   * Up to {@code limit} runs matching {@code filter}, newest first (by creation time, then id),
   * strictly after {@code after}.
   */
  Page list(Filter filter, Optional<Position> after, int limit);

  /** How many runs match {@code filter} and were created at or after {@code since}. */
  long count(Filter filter, Instant since);

  /** How many runs of every tenant are queued (created or woken, not yet claimed). */
  long queued();
}
