package dev.keel.store.jdbc;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventCodec;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunPhase;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.run.StateCodec;
import dev.keel.store.Append;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Checkpoint;
import dev.keel.store.CreateResult;
import dev.keel.store.Disposition;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.LedgerEntry;
import dev.keel.store.Loaded;
import dev.keel.store.NewRun;
import dev.keel.store.RecordedEvent;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import dev.keel.store.Signal;
import dev.keel.store.SignalCodec;
import dev.keel.store.SignalPayload;
import dev.keel.store.StoreException;
import dev.keel.store.jdbc.GroupCommitter.Op;
import dev.keel.store.jdbc.GroupCommitter.Tx;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The run store on plain JDBC, shared by SQLite and PostgreSQL; the subclasses supply connections
 * and the few dialect differences.
 *
 * <p>Implementation notes. Every write goes through a {@link GroupCommitter}, so writes of many
 * runs share one durable commit; each write runs in its own savepoint and fails alone. Times are
 * epoch milliseconds by the database's clock ({@link Dialect#now()}), evaluated inside the very
 * statement that uses them. The fencing of an append is one UPDATE of the run row whose WHERE
 * clause checks owner, epoch, expiry and expected last sequence; zero rows means the lease is lost
 * and nothing of the append is written.
 *
 * <p>{@code ready_at} is the time a run became (or becomes) claimable. A claim keeps it due, so a
 * run whose lease expires is claimable again at once with no signal (G5); a claim only moves it
 * forward to the previous lease's expiry when that lease lapsed (the run became claimable again
 * then), so every claim returns when its run became claimable, the start of its queue delay. A
 * release changes it (to its timer, to now if a signal is pending, or to NULL to sleep until a
 * signal), and a signal moves it to now unless it is already due.
 */
abstract sealed class JdbcRunStore implements RunStore permits SqliteRunStore, PostgresRunStore {

  /** Reads on a connection of the read pool. */
  @FunctionalInterface
  interface ReadOp<T> {
    /** Does the reads. */
    T run(Connection c) throws SQLException;
  }

  /** The payload of a notification that work is claimable now; otherwise it is the epoch ms. */
  static final String WORK_NOW = "now";

  private static final String TERMINAL = "('completed', 'failed', 'cancelled', 'timed_out')";
  private static final String RUN_COLUMNS =
      "id, tenant_id, agent_name, status, last_seq, signal_seq, lease_owner, lease_epoch,"
          + " lease_expires_at, ready_at, idempotency_key, created_at, updated_at";
  private static final String APPROVAL_COLUMNS =
      "id, tenant_id, run_id, kind, call_id, tool, arguments, arguments_hash, risk_level, reason,"
          + " status, decided_by, decided_at, expires_at, created_at";

  final Dialect dialect;
  final FaultInjector faults;
  final WorkSignal work = new WorkSignal();

  private final String nowSql;
  private final String insertRunSql;
  private final String claimSql;
  private final String renewSql;
  private final String fenceSql;
  private final String fenceKeepSql;
  private final String signalSql;
  private final String wakeSql;
  private final String decideSql;
  private final String expireSql;

  JdbcRunStore(Dialect dialect, FaultInjector faults) {
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.faults = Objects.requireNonNull(faults, "faults");
    String nowRow = "(SELECT " + dialect.now() + " AS now_ms) AS n";
    this.nowSql = "SELECT " + dialect.now();
    String insertRunColumns =
        "INSERT INTO runs (tenant_id, id, agent_name, agent_version, thread_id, parent_run_id,"
            + " status, phase, step, last_seq, last_hash, idempotency_key, input, created_at,"
            + " updated_at, ready_at)";
    // On SQLite the clock is inline (one value per statement step, see oneNow) in a plain VALUES
    // row: selecting from the one-row clock subquery costs SQLite about a fifth more per insert
    // (measured in isolation), on the single committer's thread (decision 0046).
    this.insertRunSql =
        dialect == Dialect.SQLITE
            ? insertRunColumns
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?, "
                + dialect.jsonParam()
                + ", "
                + dialect.now()
                + ", "
                + dialect.now()
                + ", "
                + dialect.now()
                + ") ON CONFLICT DO NOTHING RETURNING created_at"
            : insertRunColumns
                + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?, "
                + dialect.jsonParam()
                + ", n.now_ms, n.now_ms, n.now_ms FROM "
                + nowRow
                + " WHERE 1 = 1 ON CONFLICT DO NOTHING RETURNING created_at";
    this.claimSql =
        "UPDATE runs SET lease_owner = ?, lease_epoch = lease_epoch + 1,"
            + " lease_expires_at = n.now_ms + ?, updated_at = n.now_ms,"
            // a lapsed lease made the run claimable again when it expired (SET reads old values)
            + " ready_at = CASE WHEN lease_expires_at > ready_at THEN lease_expires_at"
            + " ELSE ready_at END FROM "
            + nowRow
            + " WHERE runs.id IN (SELECT c.id FROM runs c WHERE c.ready_at IS NOT NULL"
            + " AND c.ready_at <= "
            + dialect.now()
            + " AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= "
            + dialect.now()
            + ") AND c.status NOT IN "
            + TERMINAL
            + " ORDER BY c.ready_at, c.created_at LIMIT ?"
            + (dialect == Dialect.POSTGRES ? " FOR UPDATE SKIP LOCKED" : "")
            + ") RETURNING id, lease_epoch, signal_seq, lease_expires_at, ready_at";
    // On PostgreSQL the rows are locked in id order first, the order in which group-commit
    // batches lock them, so a renew and a batch never deadlock.
    this.renewSql =
        "UPDATE runs SET lease_expires_at = n.now_ms + ? FROM "
            + nowRow
            + " WHERE runs.lease_owner = ? AND runs.lease_expires_at > n.now_ms"
            + (dialect == Dialect.POSTGRES
                ? " AND runs.id IN (SELECT l.id FROM runs l WHERE l.lease_owner = ?"
                    + " AND l.lease_expires_at > "
                    + dialect.now()
                    + " ORDER BY l.id FOR UPDATE)"
                : "")
            + " RETURNING id, lease_epoch, signal_seq, lease_expires_at";
    this.fenceSql =
        oneNow(
            dialect,
            nowRow,
            "UPDATE runs SET status = ?, phase = ?, step = ?, last_seq = ?, last_hash = ?,"
                + " model_calls = ?, tool_calls = ?, input_tokens = ?, output_tokens = ?,"
                + " cost_micros = ?, output = "
                + dialect.jsonParam()
                + ", error = "
                + dialect.jsonParam()
                + ", updated_at = n.now_ms,"
                + " completed_at = CASE WHEN ? = 1 THEN COALESCE(completed_at, n.now_ms)"
                + " ELSE completed_at END,"
                + " lease_owner = CASE WHEN ? = 1 THEN NULL ELSE lease_owner END,"
                + " lease_expires_at = CASE WHEN ? = 1 THEN NULL ELSE n.now_ms + ? END,"
                + " ready_at = CASE WHEN ? = 1 THEN (CASE WHEN ? = 1 THEN NULL"
                + " WHEN signal_seq > ? THEN n.now_ms ELSE CAST(? AS BIGINT) END) ELSE ready_at END"
                + " FROM "
                + nowRow
                + " WHERE runs.id = ? AND "
                + dialect.leasedTo("runs.lease_owner")
                + " AND runs.lease_epoch = ?"
                + " AND runs.lease_expires_at > n.now_ms AND runs.last_seq = ?"
                + " RETURNING signal_seq, lease_expires_at, ready_at, updated_at");
    // The common append on SQLite: the lease is kept and the status stays. SQLite rewrites the
    // entries of every index whose columns are named in SET, changed or not, so this form names
    // none of the indexed columns (status, lease_owner, ready_at): each append then dirties the run
    // row's page and no index page. It requires the status to be the new one already; when that
    // does not match (the status changes, or the lease is lost) the append runs fenceSql instead.
    this.fenceKeepSql =
        oneNow(
            dialect,
            nowRow,
            "UPDATE runs SET phase = ?, step = ?, last_seq = ?, last_hash = ?,"
                + " model_calls = ?, tool_calls = ?, input_tokens = ?, output_tokens = ?,"
                + " cost_micros = ?, output = "
                + dialect.jsonParam()
                + ", error = "
                + dialect.jsonParam()
                + ", updated_at = n.now_ms, lease_expires_at = n.now_ms + ? FROM "
                + nowRow
                + " WHERE runs.id = ? AND "
                + dialect.leasedTo("runs.lease_owner")
                + " AND runs.lease_epoch = ?"
                + " AND runs.lease_expires_at > n.now_ms AND runs.last_seq = ? AND runs.status = ?"
                + " RETURNING signal_seq, lease_expires_at, ready_at, updated_at");
    this.signalSql =
        "UPDATE runs SET signal_seq = signal_seq + 1,"
            + " ready_at = CASE WHEN ready_at IS NULL OR ready_at > n.now_ms THEN n.now_ms"
            + " ELSE ready_at END, updated_at = n.now_ms FROM "
            + nowRow
            + " WHERE runs.id = ? AND runs.tenant_id = ? AND runs.status NOT IN "
            + TERMINAL
            + " RETURNING signal_seq, updated_at";
    this.wakeSql =
        "UPDATE runs SET ready_at = CASE WHEN ready_at IS NULL OR ready_at > n.now_ms THEN"
            + " n.now_ms ELSE ready_at END FROM "
            + nowRow
            + " WHERE runs.id = ? AND runs.status NOT IN "
            + TERMINAL
            + " RETURNING ready_at";
    this.decideSql =
        "UPDATE approvals SET status = ?, decided_by = ?, decided_at = n.now_ms FROM "
            + nowRow
            + " WHERE approvals.id = ? AND approvals.tenant_id = ? AND approvals.status = 'pending'"
            + " AND approvals.expires_at > n.now_ms AND EXISTS (SELECT 1 FROM runs r"
            + " WHERE r.id = approvals.run_id AND r.status NOT IN "
            + TERMINAL
            + ") RETURNING run_id";
    this.expireSql =
        "UPDATE approvals SET status = 'expired', decided_by = ?, decided_at = n.now_ms FROM "
            + nowRow
            + " WHERE approvals.run_id = ? AND approvals.status = 'pending'"
            + " AND approvals.expires_at <= n.now_ms RETURNING id, tenant_id";
  }

  /**
   * On SQLite, {@code sql} with the store clock inline instead of joined as the one-row table
   * {@code n}: SQLite gives every {@code unixepoch()} of one statement step the same value, and an
   * {@code UPDATE ... FROM} a subquery costs an order of magnitude more than a plain UPDATE (it
   * materializes the subquery and runs the update in two passes). PostgreSQL's {@code
   * clock_timestamp()} changes within a statement, so there the join stays.
   */
  private static String oneNow(Dialect dialect, String nowRow, String sql) {
    if (dialect != Dialect.SQLITE) {
      return sql;
    }
    return sql.replace(" FROM " + nowRow, "").replace("n.now_ms", dialect.now());
  }

  // ---- what the subclasses supply ----

  /** Runs {@code op} in a group-committed transaction; writes of one run share a route. */
  abstract <T> T write(String route, String what, Op<T> op);

  /** Runs {@code op} on a connection that may touch many runs (claim, renew). */
  abstract <T> T writeMany(String what, Op<T> op);

  /** Runs reads. */
  abstract <T> T read(String what, ReadOp<T> op);

  private void wakeAfter(Tx tx, long atMillis, long nowMillis) {
    if (atMillis <= nowMillis) {
      tx.publish(WORK_NOW);
      tx.afterCommit(work::wake);
    } else {
      tx.publish(Long.toString(atMillis));
      tx.afterCommit(() -> work.timer(atMillis));
    }
  }

  // ---- the port ----

  @Override
  public Instant now() {
    return read(
        "reading the store clock",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(nowSql);
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return Instant.ofEpochMilli(rs.getLong(1));
          }
        });
  }

  @Override
  public CreateResult create(NewRun run) {
    EventEnvelope first = run.created().envelope();
    RunEvent.RunCreated created = (RunEvent.RunCreated) first.event();
    // A new run (a fork too) starts queued; its state needs no fold here.
    RunStatus status = RunStatus.QUEUED;
    RunPhase phase = RunPhase.NONE;
    String route =
        run.idempotencyKey().map(k -> run.tenant() + '\u0000' + k).orElse(run.runId().value());
    return write(
        route,
        "creating run " + run.runId(),
        tx -> {
          Connection c = tx.connection();
          long now;
          PreparedStatement ps = tx.prepare(insertRunSql);
          int i = 0;
          ps.setString(++i, run.tenant());
          ps.setString(++i, run.runId().value());
          ps.setString(++i, created.agentName());
          ps.setString(++i, created.agentVersion());
          ps.setString(++i, created.threadId().orElse(null));
          ps.setString(++i, created.parentRunId().orElse(null));
          ps.setString(++i, status.wire());
          ps.setString(++i, phase.wire());
          ps.setString(++i, run.created().hash());
          ps.setString(++i, run.idempotencyKey().orElse(null));
          ps.setString(++i, created.input().toString());
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              return existing(c, run);
            }
            now = rs.getLong(1);
          }
          faults.at(CrashPoint.B1_RUN_ROW_CREATED, run.runId());
          insertEvents(tx, List.of(run.created()));
          wakeAfter(tx, now, now);
          return new CreateResult(run.runId(), false);
        });
  }

  private static CreateResult existing(Connection c, NewRun run) throws SQLException {
    if (run.idempotencyKey().isPresent()) {
      try (PreparedStatement ps =
          c.prepareStatement("SELECT id FROM runs WHERE tenant_id = ? AND idempotency_key = ?")) {
        ps.setString(1, run.tenant());
        ps.setString(2, run.idempotencyKey().get());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return new CreateResult(RunId.of(rs.getString(1)), true);
          }
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT tenant_id FROM runs WHERE id = ?")) {
      ps.setString(1, run.runId().value());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getString(1).equals(run.tenant())) {
          return new CreateResult(run.runId(), true);
        }
      }
    }
    throw new StoreException(
        "creating run "
            + run.runId()
            + " failed: a run with this id already exists for another tenant or key",
        false);
  }

  @Override
  public List<Lease> claim(String workerId, Duration ttl, int max) {
    Objects.requireNonNull(workerId, "workerId");
    requirePositive(ttl, "ttl");
    if (max < 1) {
      return List.of();
    }
    return writeMany(
        "claiming runs for " + workerId,
        tx -> {
          record Claimed(Lease lease, long readyAt) {}
          List<Claimed> out = new ArrayList<>();
          PreparedStatement ps = tx.prepare(claimSql);
          ps.setString(1, workerId);
          ps.setLong(2, ttl.toMillis());
          ps.setInt(3, max);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new Claimed(
                      new Lease(
                          RunId.of(rs.getString(1)),
                          workerId,
                          rs.getLong(2),
                          rs.getLong(3),
                          Instant.ofEpochMilli(rs.getLong(4)),
                          Optional.of(Instant.ofEpochMilli(rs.getLong(5)))),
                      rs.getLong(5)));
            }
          }
          out.sort(
              Comparator.comparingLong(Claimed::readyAt).thenComparing(cl -> cl.lease().runId()));
          return out.stream().map(Claimed::lease).toList();
        });
  }

  @Override
  public List<Lease> renew(String workerId, Duration ttl) {
    Objects.requireNonNull(workerId, "workerId");
    requirePositive(ttl, "ttl");
    return writeMany(
        "renewing the leases of " + workerId,
        tx -> {
          List<Lease> out = new ArrayList<>();
          PreparedStatement ps = tx.prepare(renewSql);
          ps.setLong(1, ttl.toMillis());
          ps.setString(2, workerId);
          if (dialect == Dialect.POSTGRES) {
            ps.setString(3, workerId);
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new Lease(
                      RunId.of(rs.getString(1)),
                      workerId,
                      rs.getLong(2),
                      rs.getLong(3),
                      Instant.ofEpochMilli(rs.getLong(4))));
            }
          }
          out.sort(Comparator.comparing(Lease::runId));
          return out;
        });
  }

  @Override
  public Lease append(Append a) {
    Lease lease = a.lease();
    RunState s = a.stateAfter();
    boolean terminal = s.status().terminal();
    boolean release = terminal || a.disposition() instanceof Disposition.Release;
    Long timer =
        a.disposition() instanceof Disposition.Release r && !terminal
            ? r.readyAt().map(Instant::toEpochMilli).orElse(null)
            : null;
    return write(
        lease.runId().value(),
        "appending to " + lease.runId() + " at epoch " + lease.epoch(),
        tx -> {
          Connection c = tx.connection();
          long signalSeq;
          long now;
          Long expiresAt;
          Long readyAt;
          Shape shape = dialect == Dialect.POSTGRES ? Shape.of(a) : Shape.SEPARATE;
          PreparedStatement ps =
              tx.prepare(shape == Shape.SEPARATE ? fenceSql : oneStatement(shape));
          int i = 0;
          ps.setString(++i, s.status().wire());
          ps.setString(++i, s.phase().wire());
          i = bindProgress(ps, i, s);
          ps.setInt(++i, terminal ? 1 : 0);
          ps.setInt(++i, release ? 1 : 0);
          ps.setInt(++i, release ? 1 : 0);
          ps.setLong(++i, a.leaseTime().toMillis());
          ps.setInt(++i, release ? 1 : 0);
          ps.setInt(++i, terminal ? 1 : 0);
          ps.setLong(++i, s.signalsConsumed());
          if (timer == null) {
            ps.setNull(++i, Types.BIGINT);
          } else {
            ps.setLong(++i, timer);
          }
          ps.setString(++i, lease.runId().value());
          ps.setString(++i, lease.workerId());
          ps.setLong(++i, lease.epoch());
          ps.setLong(++i, a.expectedLastSeq());
          if (shape != Shape.SEPARATE) {
            bindTheRest(c, ps, i, shape, a);
          }
          ResultSet kept = release || dialect != Dialect.SQLITE ? null : keepLease(tx, a);
          try (ResultSet rs = kept != null ? kept : ps.executeQuery()) {
            if (kept == null && !rs.next()) {
              throw leaseLost(c, a);
            }
            signalSeq = rs.getLong(1);
            expiresAt = nullableLong(rs, 2);
            readyAt = nullableLong(rs, 3);
            now = rs.getLong(4);
            if (shape.toolStarted && rs.getLong(5) == 0) {
              RunEvent.ToolCallStarted t = shape.started(a);
              throw new IllegalStateException(
                  "idempotency key "
                      + t.idempotencyKey()
                      + " of "
                      + t.tool()
                      + " already belongs to another run than "
                      + lease.runId());
            }
          }
          if (shape == Shape.SEPARATE) {
            insertEvents(tx, a.events());
            project(tx, s, a.events(), now);
            if (a.checkpoint().isPresent()) {
              insertCheckpoint(tx, a.checkpoint().get(), now);
            }
          }
          if (release && readyAt != null) {
            wakeAfter(tx, readyAt, now);
          }
          return new Lease(
              lease.runId(),
              lease.workerId(),
              lease.epoch(),
              signalSeq,
              Instant.ofEpochMilli(expiresAt == null ? now : expiresAt));
        });
  }

  /**
   * Runs {@link #fenceKeepSql} for {@code a}, an append that keeps its lease; returns its result on
   * its one row, or null (having written nothing) if the status changes or the fence failed.
   */
  private @Nullable ResultSet keepLease(Tx tx, Append a) throws SQLException {
    PreparedStatement ps = tx.prepare(fenceKeepSql);
    bindKeep(ps, a);
    ResultSet rs = ps.executeQuery();
    if (rs.next()) {
      return rs;
    }
    rs.close();
    return null;
  }

  /**
   * Binds a run's progress columns (step through error) after parameter {@code i}, in the order
   * both fence statements name them; returns the last parameter bound.
   */
  private static int bindProgress(PreparedStatement ps, int i, RunState s) throws SQLException {
    ps.setInt(++i, s.step());
    ps.setLong(++i, s.lastSeq());
    ps.setString(++i, s.chainHash());
    ps.setInt(++i, s.usage().modelCalls());
    ps.setInt(++i, s.usage().toolCalls());
    ps.setLong(++i, s.usage().inputTokens());
    ps.setLong(++i, s.usage().outputTokens());
    ps.setLong(++i, s.usage().costMicros());
    ps.setString(++i, s.output().map(JsonObject::toString).orElse(null));
    ps.setString(
        ++i,
        s.error()
            .map(e -> JsonValue.object("code", e.code(), "message", e.message()).toString())
            .orElse(null));
    return i;
  }

  /** Binds {@link #fenceKeepSql} for {@code a}. */
  private static void bindKeep(PreparedStatement ps, Append a) throws SQLException {
    RunState s = a.stateAfter();
    Lease lease = a.lease();
    int i = 0;
    ps.setString(++i, s.phase().wire());
    i = bindProgress(ps, i, s);
    ps.setLong(++i, a.leaseTime().toMillis());
    ps.setString(++i, lease.runId().value());
    ps.setString(++i, lease.workerId());
    ps.setLong(++i, lease.epoch());
    ps.setLong(++i, a.expectedLastSeq());
    ps.setString(++i, s.status().wire());
  }

  /**
   * How an append is written on PostgreSQL. An append with at most one projection (the common case:
   * a tool intent or a tool result) is one statement: the fenced UPDATE of the run row, the events,
   * the projection and the checkpoint in data-modifying CTEs that write only if the fence matched,
   * so the append costs one round trip plus the commit. Anything else (an approval, two tool events
   * in one append, whose CTEs would not see each other's rows) is written statement by statement,
   * as on SQLite, where statements cost no round trip.
   */
  private enum Shape {
    SEPARATE(false, false),
    EVENTS(false, false),
    EVENTS_STARTED(true, false),
    EVENTS_SETTLED(false, true);

    final boolean toolStarted;
    final boolean toolSettled;

    Shape(boolean toolStarted, boolean toolSettled) {
      this.toolStarted = toolStarted;
      this.toolSettled = toolSettled;
    }

    static Shape of(Append a) {
      Shape shape = EVENTS;
      for (RecordedEvent r : a.events()) {
        Shape next =
            switch (r.envelope().event()) {
              case RunEvent.ApprovalRequested x -> SEPARATE;
              case RunEvent.ToolCallStarted x -> EVENTS_STARTED;
              case RunEvent.ToolCallSucceeded x -> EVENTS_SETTLED;
              case RunEvent.ToolCallFailed x -> EVENTS_SETTLED;
              case RunEvent.ToolOutcomeUnknown x -> EVENTS_SETTLED;
              default -> EVENTS;
            };
        if (next == SEPARATE || (next != EVENTS && shape != EVENTS)) {
          return SEPARATE;
        }
        if (next != EVENTS) {
          shape = next;
        }
      }
      return shape;
    }

    RunEvent.ToolCallStarted started(Append a) {
      for (RecordedEvent r : a.events()) {
        if (r.envelope().event() instanceof RunEvent.ToolCallStarted t) {
          return t;
        }
      }
      throw new IllegalStateException("no tool.started in this append");
    }
  }

  private String oneStatement(Shape shape) {
    String fence = fenceSql.substring(0, fenceSql.lastIndexOf(" RETURNING "));
    StringBuilder sql =
        new StringBuilder("WITH f AS (")
            .append(fence)
            .append(" RETURNING runs.signal_seq, runs.lease_expires_at, runs.ready_at,")
            .append(" runs.updated_at), e AS (INSERT INTO run_events")
            .append(" (run_id, seq, type, data, at, epoch, hash)")
            .append(" SELECT ?, x.seq, x.type, x.data, x.at, x.epoch, x.hash FROM unnest(")
            .append("CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS text[]),")
            .append(" CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS text[]))")
            .append(" AS x(seq, type, data, at, epoch, hash) WHERE EXISTS (SELECT 1 FROM f)),")
            .append(" c AS (INSERT INTO run_checkpoints (run_id, through_seq, step, state,")
            .append(" state_hash, previous_hash, hash, created_at)")
            .append(" SELECT ?, ?, ?, ?, ?, ?, ?, f.updated_at FROM f WHERE ? = 1)");
    if (shape.toolStarted) {
      sql.append(", p AS (INSERT INTO tool_invocations (tool, idempotency_key, run_id, call_id,")
          .append(" first_seq, status, attempts, created_at, updated_at)")
          .append(" SELECT ?, ?, ?, ?, ?, 'started', ?, f.updated_at, f.updated_at FROM f")
          .append(" ON CONFLICT (tool, idempotency_key) DO UPDATE SET status = 'started',")
          .append(" attempts = excluded.attempts, updated_at = excluded.updated_at")
          .append(" WHERE tool_invocations.run_id = excluded.run_id RETURNING 1)");
    } else if (shape.toolSettled) {
      sql.append(", p AS (UPDATE tool_invocations SET status = ?, updated_at = f.updated_at")
          .append(" FROM f WHERE tool_invocations.run_id = ? AND tool_invocations.call_id = ?)");
    }
    sql.append(" SELECT f.signal_seq, f.lease_expires_at, f.ready_at, f.updated_at");
    if (shape.toolStarted) {
      sql.append(", (SELECT count(*) FROM p)");
    }
    return sql.append(" FROM f").toString();
  }

  /** Binds the events, checkpoint and projection of the one-statement append after {@code i}. */
  private static void bindTheRest(Connection c, PreparedStatement ps, int i, Shape shape, Append a)
      throws SQLException {
    String runId = a.lease().runId().value();
    int n = a.events().size();
    Long[] seqs = new Long[n];
    String[] types = new String[n];
    String[] data = new String[n];
    String[] ats = new String[n];
    Long[] epochs = new Long[n];
    String[] hashes = new String[n];
    for (int k = 0; k < n; k++) {
      RecordedEvent e = a.events().get(k);
      EventEnvelope env = e.envelope();
      seqs[k] = env.seq();
      types[k] = env.event().type();
      data[k] = e.payload();
      ats[k] = env.at().toString();
      epochs[k] = env.epoch();
      hashes[k] = e.hash();
    }
    ps.setString(++i, runId);
    ps.setArray(++i, c.createArrayOf("bigint", seqs));
    ps.setArray(++i, c.createArrayOf("text", types));
    ps.setArray(++i, c.createArrayOf("text", data));
    ps.setArray(++i, c.createArrayOf("text", ats));
    ps.setArray(++i, c.createArrayOf("bigint", epochs));
    ps.setArray(++i, c.createArrayOf("text", hashes));
    Optional<Checkpoint> cp = a.checkpoint();
    ps.setString(++i, runId);
    ps.setLong(++i, cp.map(Checkpoint::throughSeq).orElse(0L));
    ps.setInt(++i, cp.map(Checkpoint::step).orElse(0));
    ps.setString(++i, cp.map(x -> StateCodec.toJson(x.state()).toString()).orElse(""));
    ps.setString(++i, cp.map(Checkpoint::stateHash).orElse(""));
    ps.setString(++i, cp.map(Checkpoint::previousHash).orElse(""));
    ps.setString(++i, cp.map(Checkpoint::hash).orElse(""));
    ps.setInt(++i, cp.isPresent() ? 1 : 0);
    for (RecordedEvent recorded : a.events()) {
      switch (recorded.envelope().event()) {
        case RunEvent.ToolCallStarted t when shape.toolStarted -> {
          ps.setString(++i, t.tool());
          ps.setString(++i, t.idempotencyKey());
          ps.setString(++i, runId);
          ps.setString(++i, t.callId());
          ps.setLong(++i, recorded.envelope().seq());
          ps.setInt(++i, t.attempt());
        }
        case RunEvent.ToolCallSucceeded t when shape.toolSettled ->
            i = bindSettle(ps, i, "succeeded", runId, t.callId());
        case RunEvent.ToolCallFailed t when shape.toolSettled ->
            i = bindSettle(ps, i, "failed", runId, t.callId());
        case RunEvent.ToolOutcomeUnknown t when shape.toolSettled ->
            i = bindSettle(ps, i, "unknown", runId, t.callId());
        default -> {
          // no projection
        }
      }
    }
  }

  private static int bindSettle(
      PreparedStatement ps, int i, String status, String runId, String callId) throws SQLException {
    ps.setString(++i, status);
    ps.setString(++i, runId);
    ps.setString(++i, callId);
    return i;
  }

  private LeaseLostException leaseLost(Connection c, Append a) throws SQLException {
    Lease lease = a.lease();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT lease_owner, lease_epoch, lease_expires_at, last_seq, "
                + dialect.now()
                + " FROM runs WHERE id = ?")) {
      ps.setString(1, lease.runId().value());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new LeaseLostException(lease.runId(), lease.epoch(), "the run does not exist");
        }
        String owner = rs.getString(1);
        long epoch = rs.getLong(2);
        Long expires = nullableLong(rs, 3);
        long lastSeq = rs.getLong(4);
        long now = rs.getLong(5);
        String why;
        if (epoch != lease.epoch()) {
          why = "the run was claimed again (now at epoch " + epoch + " by " + owner + ")";
        } else if (owner == null || !owner.equals(lease.workerId())) {
          why = "the lease was released";
        } else if (expires == null || expires <= now) {
          why =
              "the lease expired at "
                  + (expires == null ? "?" : Instant.ofEpochMilli(expires))
                  + " (store time "
                  + Instant.ofEpochMilli(now)
                  + ")";
        } else if (lastSeq != a.expectedLastSeq()) {
          why = "expected last seq " + a.expectedLastSeq() + " but the run is at " + lastSeq;
        } else {
          why = "the fenced update matched no row";
        }
        return new LeaseLostException(lease.runId(), lease.epoch(), why);
      }
    }
  }

  private static void insertEvents(Tx tx, List<RecordedEvent> events) throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    PreparedStatement ps =
        tx.prepare(
            "INSERT INTO run_events (run_id, seq, type, data, at, epoch, hash)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (RecordedEvent e : events) {
      EventEnvelope env = e.envelope();
      ps.setString(1, env.runId().value());
      ps.setLong(2, env.seq());
      ps.setString(3, env.event().type());
      ps.setString(4, e.payload());
      ps.setString(5, env.at().toString());
      ps.setLong(6, env.epoch());
      ps.setString(7, e.hash());
      if (events.size() == 1) {
        ps.executeUpdate();
      } else {
        ps.addBatch();
      }
    }
    if (events.size() > 1) {
      ps.executeBatch();
    }
  }

  /** Writes the projections the events imply: approval rows and the tool-invocation ledger. */
  private static void project(Tx tx, RunState s, List<RecordedEvent> events, long now)
      throws SQLException {
    String runId = s.runId().value();
    for (RecordedEvent recorded : events) {
      switch (recorded.envelope().event()) {
        case RunEvent.ApprovalRequested a -> {
          PreparedStatement ps =
              tx.prepare(
                  "INSERT INTO approvals (tenant_id, id, run_id, kind, call_id, tool, arguments,"
                      + " arguments_hash, risk_level, reason, status, expires_at, created_at)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)");
          int i = 0;
          ps.setString(++i, s.header().tenant());
          ps.setString(++i, a.approvalId());
          ps.setString(++i, runId);
          ps.setString(++i, a.kind());
          ps.setString(++i, a.callId());
          ps.setString(++i, a.tool());
          ps.setString(++i, a.arguments().toString());
          ps.setString(++i, a.argumentsHash());
          ps.setInt(++i, a.riskLevel());
          ps.setString(++i, a.reason());
          ps.setLong(++i, a.expiresAt().toEpochMilli());
          ps.setLong(++i, now);
          ps.executeUpdate();
        }
        case RunEvent.ToolCallStarted t -> {
          PreparedStatement ps =
              tx.prepare(
                  "INSERT INTO tool_invocations (tool, idempotency_key, run_id, call_id,"
                      + " first_seq, status, attempts, created_at, updated_at)"
                      + " VALUES (?, ?, ?, ?, ?, 'started', ?, ?, ?)"
                      + " ON CONFLICT (tool, idempotency_key) DO UPDATE SET status = 'started',"
                      + " attempts = excluded.attempts, updated_at = excluded.updated_at"
                      + " WHERE tool_invocations.run_id = excluded.run_id");
          int i = 0;
          ps.setString(++i, t.tool());
          ps.setString(++i, t.idempotencyKey());
          ps.setString(++i, runId);
          ps.setString(++i, t.callId());
          ps.setLong(++i, recorded.envelope().seq());
          ps.setInt(++i, t.attempt());
          ps.setLong(++i, now);
          ps.setLong(++i, now);
          if (ps.executeUpdate() == 0) {
            throw new IllegalStateException(
                "idempotency key "
                    + t.idempotencyKey()
                    + " of "
                    + t.tool()
                    + " already belongs to another run than "
                    + runId);
          }
        }
        case RunEvent.ToolCallSucceeded t -> settle(tx, runId, t.callId(), "succeeded", now);
        case RunEvent.ToolCallFailed t -> settle(tx, runId, t.callId(), "failed", now);
        case RunEvent.ToolOutcomeUnknown t -> settle(tx, runId, t.callId(), "unknown", now);
        default -> {
          // The other events change only the run row, which comes from the state after them.
        }
      }
    }
  }

  private static void settle(Tx tx, String runId, String callId, String status, long now)
      throws SQLException {
    PreparedStatement ps =
        tx.prepare(
            "UPDATE tool_invocations SET status = ?, updated_at = ? WHERE run_id = ?"
                + " AND call_id = ?");
    ps.setString(1, status);
    ps.setLong(2, now);
    ps.setString(3, runId);
    ps.setString(4, callId);
    ps.executeUpdate();
  }

  private static void insertCheckpoint(Tx tx, Checkpoint cp, long now) throws SQLException {
    PreparedStatement ps =
        tx.prepare(
            "INSERT INTO run_checkpoints (run_id, through_seq, step, state, state_hash,"
                + " previous_hash, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    int i = 0;
    ps.setString(++i, cp.runId().value());
    ps.setLong(++i, cp.throughSeq());
    ps.setInt(++i, cp.step());
    ps.setString(++i, StateCodec.toJson(cp.state()).toString());
    ps.setString(++i, cp.stateHash());
    ps.setString(++i, cp.previousHash());
    ps.setString(++i, cp.hash());
    ps.setLong(++i, now);
    ps.executeUpdate();
  }

  @Override
  public Loaded load(RunId runId) {
    return read(
        "loading " + runId,
        c -> {
          Optional<Checkpoint> cp =
              checkpoints(
                      c,
                      runId,
                      "SELECT through_seq, step, state, state_hash, previous_hash, hash"
                          + " FROM run_checkpoints WHERE run_id = ?"
                          + " ORDER BY through_seq DESC LIMIT 1")
                  .stream()
                  .findFirst();
          long after = cp.map(Checkpoint::throughSeq).orElse(0L);
          return new Loaded(cp, events(c, runId, after, Integer.MAX_VALUE));
        });
  }

  @Override
  public List<EventEnvelope> events(RunId runId, long afterSeq, int limit) {
    return read("reading events of " + runId, c -> events(c, runId, afterSeq, limit));
  }

  private static List<EventEnvelope> events(Connection c, RunId runId, long afterSeq, int limit)
      throws SQLException {
    List<EventEnvelope> out = new ArrayList<>();
    if (limit < 1) {
      return out;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT seq, type, data, at, epoch FROM run_events WHERE run_id = ? AND seq > ?"
                + " ORDER BY seq LIMIT ?")) {
      ps.setString(1, runId.value());
      ps.setLong(2, afterSeq);
      ps.setInt(3, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new EventEnvelope(
                  runId,
                  rs.getLong(1),
                  Instant.parse(rs.getString(4)),
                  rs.getLong(5),
                  EventCodec.decode(rs.getString(2), rs.getString(3))));
        }
      }
    }
    return out;
  }

  @Override
  public List<String> eventHashes(RunId runId) {
    return read(
        "reading event hashes of " + runId,
        c -> {
          List<String> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement("SELECT hash FROM run_events WHERE run_id = ? ORDER BY seq")) {
            ps.setString(1, runId.value());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
          }
          return out;
        });
  }

  @Override
  public List<Checkpoint> checkpoints(RunId runId) {
    return read(
        "reading checkpoints of " + runId,
        c ->
            checkpoints(
                c,
                runId,
                "SELECT through_seq, step, state, state_hash, previous_hash, hash"
                    + " FROM run_checkpoints WHERE run_id = ? ORDER BY through_seq"));
  }

  private static List<Checkpoint> checkpoints(Connection c, RunId runId, String sql)
      throws SQLException {
    List<Checkpoint> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, runId.value());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Checkpoint(
                  runId,
                  rs.getInt(2),
                  rs.getLong(1),
                  StateCodec.fromJson(rs.getString(3)),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getString(6)));
        }
      }
    }
    return out;
  }

  @Override
  public List<Signal> signals(RunId runId, long afterSeq) {
    return read(
        "reading signals of " + runId,
        c -> {
          List<Signal> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT seq, kind, data, at FROM run_signals WHERE run_id = ? AND seq > ?"
                      + " ORDER BY seq")) {
            ps.setString(1, runId.value());
            ps.setLong(2, afterSeq);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Signal(
                        runId,
                        rs.getLong(1),
                        Instant.ofEpochMilli(rs.getLong(4)),
                        SignalCodec.decode(rs.getString(2), rs.getString(3))));
              }
            }
          }
          return out;
        });
  }

  @Override
  public Optional<Long> signal(String tenant, RunId runId, SignalPayload payload) {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(payload, "payload");
    return write(
        runId.value(),
        "signalling " + payload.kind() + " to " + runId,
        tx -> signalIn(tx, tenant, runId.value(), payload));
  }

  /** Records a signal inside {@code tx}; empty if the run is missing, another's or ended. */
  private Optional<Long> signalIn(Tx tx, String tenant, String runId, SignalPayload payload)
      throws SQLException {
    long seq;
    long now;
    PreparedStatement bump = tx.prepare(signalSql);
    bump.setString(1, runId);
    bump.setString(2, tenant);
    try (ResultSet rs = bump.executeQuery()) {
      if (!rs.next()) {
        return Optional.empty();
      }
      seq = rs.getLong(1);
      now = rs.getLong(2);
    }
    PreparedStatement ps =
        tx.prepare("INSERT INTO run_signals (run_id, seq, kind, data, at) VALUES (?, ?, ?, ?, ?)");
    ps.setString(1, runId);
    ps.setLong(2, seq);
    ps.setString(3, payload.kind());
    ps.setString(4, SignalCodec.encode(payload));
    ps.setLong(5, now);
    ps.executeUpdate();
    wakeAfter(tx, now, now);
    return Optional.of(seq);
  }

  @Override
  public boolean wake(RunId runId) {
    return write(
        runId.value(),
        "waking " + runId,
        tx -> {
          PreparedStatement ps = tx.prepare(wakeSql);
          ps.setString(1, runId.value());
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              return false;
            }
            // ready_at is now or earlier: claimable at once
            tx.publish(WORK_NOW);
            tx.afterCommit(work::wake);
            return true;
          }
        });
  }

  @Override
  public Optional<ApprovalRecord> decide(String tenant, SignalPayload.ApprovalDecision decision) {
    Objects.requireNonNull(tenant, "tenant");
    Optional<String> runId =
        read(
            "finding approval " + decision.approvalId(),
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT run_id FROM approvals WHERE id = ? AND tenant_id = ?")) {
                ps.setString(1, decision.approvalId());
                ps.setString(2, tenant);
                try (ResultSet rs = ps.executeQuery()) {
                  return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
              }
            });
    if (runId.isEmpty()) {
      return Optional.empty();
    }
    return write(
        runId.get(),
        "deciding approval " + decision.approvalId(),
        tx -> {
          Connection c = tx.connection();
          boolean decided;
          PreparedStatement ps = tx.prepare(decideSql);
          ps.setString(1, decision.decision());
          ps.setString(2, decision.decidedBy());
          ps.setString(3, decision.approvalId());
          ps.setString(4, tenant);
          try (ResultSet rs = ps.executeQuery()) {
            decided = rs.next();
          }
          if (decided) {
            signalIn(tx, tenant, runId.get(), decision);
          }
          return approval(c, tenant, decision.approvalId());
        });
  }

  @Override
  public int expireApprovals(RunId runId) {
    return write(
        runId.value(),
        "expiring approvals of " + runId,
        tx -> {
          record Due(String id, String tenant) {}
          List<Due> due = new ArrayList<>();
          PreparedStatement ps = tx.prepare(expireSql);
          ps.setString(1, "keel");
          ps.setString(2, runId.value());
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              due.add(new Due(rs.getString(1), rs.getString(2)));
            }
          }
          due.sort(Comparator.comparing(Due::id));
          for (Due d : due) {
            signalIn(
                tx,
                d.tenant(),
                runId.value(),
                new SignalPayload.ApprovalDecision(
                    d.id(), "expired", "keel", Optional.empty(), ""));
          }
          return due.size();
        });
  }

  @Override
  public Optional<ApprovalRecord> approval(String tenant, String approvalId) {
    return read("reading approval " + approvalId, c -> approval(c, tenant, approvalId));
  }

  private static Optional<ApprovalRecord> approval(Connection c, String tenant, String id)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT " + APPROVAL_COLUMNS + " FROM approvals WHERE id = ? AND tenant_id = ?")) {
      ps.setString(1, id);
      ps.setString(2, tenant);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(approvalRecord(rs)) : Optional.empty();
      }
    }
  }

  @Override
  public List<ApprovalRecord> approvals(String tenant, Optional<String> status, int limit) {
    return read(
        "listing approvals of tenant " + tenant,
        c -> {
          List<ApprovalRecord> out = new ArrayList<>();
          String sql =
              "SELECT "
                  + APPROVAL_COLUMNS
                  + " FROM approvals WHERE tenant_id = ?"
                  + (status.isPresent() ? " AND status = ?" : "")
                  + " ORDER BY created_at DESC, id DESC LIMIT ?";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 0;
            ps.setString(++i, tenant);
            if (status.isPresent()) {
              ps.setString(++i, status.get());
            }
            ps.setInt(++i, Math.max(0, limit));
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(approvalRecord(rs));
              }
            }
          }
          return out;
        });
  }

  private static ApprovalRecord approvalRecord(ResultSet rs) throws SQLException {
    Long decidedAt = nullableLong(rs, 13);
    return new ApprovalRecord(
        rs.getString(1),
        rs.getString(2),
        RunId.of(rs.getString(3)),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        (JsonObject) JsonParser.parse(rs.getString(7)),
        rs.getString(8),
        rs.getInt(9),
        rs.getString(10),
        rs.getString(11),
        Optional.ofNullable(rs.getString(12)),
        Optional.ofNullable(decidedAt).map(Instant::ofEpochMilli),
        Instant.ofEpochMilli(rs.getLong(14)),
        Instant.ofEpochMilli(rs.getLong(15)));
  }

  @Override
  public Optional<RunRow> row(RunId runId) {
    return read(
        "reading the row of " + runId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM runs WHERE id = ?")) {
            ps.setString(1, runId.value());
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(runRow(rs)) : Optional.<RunRow>empty();
            }
          }
        });
  }

  @Override
  public List<RunRow> rows() {
    return read(
        "reading every run row",
        c -> {
          List<RunRow> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT " + RUN_COLUMNS + " FROM runs ORDER BY created_at, id");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(runRow(rs));
            }
          }
          return out;
        });
  }

  private static RunRow runRow(ResultSet rs) throws SQLException {
    return new RunRow(
        RunId.of(rs.getString(1)),
        rs.getString(2),
        rs.getString(3),
        RunStatus.fromWire(rs.getString(4)),
        rs.getLong(5),
        rs.getLong(6),
        Optional.ofNullable(rs.getString(7)),
        rs.getLong(8),
        Optional.ofNullable(nullableLong(rs, 9)).map(Instant::ofEpochMilli),
        Optional.ofNullable(nullableLong(rs, 10)).map(Instant::ofEpochMilli),
        Optional.ofNullable(rs.getString(11)),
        Instant.ofEpochMilli(rs.getLong(12)),
        Instant.ofEpochMilli(rs.getLong(13)));
  }

  @Override
  public List<LedgerEntry> ledger(RunId runId) {
    return read(
        "reading the ledger of " + runId,
        c -> {
          List<LedgerEntry> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT call_id, tool, idempotency_key, status, attempts FROM tool_invocations"
                      + " WHERE run_id = ? ORDER BY first_seq, tool")) {
            ps.setString(1, runId.value());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new LedgerEntry(
                        runId,
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getInt(5)));
              }
            }
          }
          return out;
        });
  }

  @Override
  public void awaitWork(Duration max) throws InterruptedException {
    work.await(max);
  }

  static @Nullable Long nullableLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  private static void requirePositive(Duration d, String field) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, got " + d);
    }
  }
}
