package dev.keel.server;

import dev.keel.run.RunId;
import dev.keel.store.RunQuery;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@link RunQuery} by scanning {@link RunStore#rows()}: for the in-memory store of tests and the
 * embedded demo only. A SQL store lists with {@code JdbcRunQuery} instead.
 */
final class ScanRunQuery implements RunQuery {
  private static final Comparator<RunRow> NEWEST_FIRST =
      Comparator.comparing(RunRow::createdAt).thenComparing(RunRow::runId).reversed();
  private final RunStore store;
  private final Function<RunId, Optional<String>> threadOf;

  ScanRunQuery(RunStore store, Function<RunId, Optional<String>> threadOf) {
    this.store = store;
    this.threadOf = threadOf;
  }

  @Override
  public Page list(Filter f, Optional<Position> after, int limit) {
    List<RunRow> rows = new ArrayList<>();
    for (RunRow r : store.rows()) {
      if (r.tenant().equals(f.tenant())
          && f.status().map(s -> s == r.status()).orElse(true)
          && f.agent().map(a -> a.equals(r.agentName())).orElse(true)
          && after.map(p -> isAfter(r, p)).orElse(true)
          && (f.threadId().isEmpty() || f.threadId().equals(threadOf.apply(r.runId())))) {
        rows.add(r);
      }
    }
    rows.sort(NEWEST_FIRST);
    boolean more = rows.size() > limit;
    List<RunRow> page = more ? rows.subList(0, limit) : rows;
    return new Page(page, more ? Optional.of(Position.of(page.getLast())) : Optional.empty());
  }

  private static boolean isAfter(RunRow r, Position p) {
    int c = r.createdAt().compareTo(p.createdAt());
    return c < 0 || (c == 0 && r.runId().value().compareTo(p.runId().value()) < 0);
  }

  @Override
  public long count(Filter f, java.time.Instant since) {
    return store.rows().stream()
        .filter(r -> r.tenant().equals(f.tenant()) && !r.createdAt().isBefore(since))
        .filter(r -> f.status().map(s -> s == r.status()).orElse(true))
        .filter(r -> f.agent().map(a -> a.equals(r.agentName())).orElse(true))
        .filter(r -> f.threadId().isEmpty() || f.threadId().equals(threadOf.apply(r.runId())))
        .count();
  }

  @Override
  public long queued() {
    return store.rows().stream().filter(r -> r.status() == dev.keel.run.RunStatus.QUEUED).count();
  }
}
