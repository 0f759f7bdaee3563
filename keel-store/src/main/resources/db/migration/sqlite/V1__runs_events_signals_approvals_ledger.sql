-- Keel store schema 1 (SQLite). Times are epoch milliseconds by the store's clock, except
-- run_events.at, which is the engine's Instant stored exactly as ISO-8601 text because the event
-- chain hash covers it. JSON that is hashed (event data, checkpoint state, approval arguments) is
-- stored as the exact canonical text.

CREATE TABLE runs (
  tenant_id        TEXT    NOT NULL,
  id               TEXT    NOT NULL PRIMARY KEY,
  agent_name       TEXT    NOT NULL,
  agent_version    TEXT    NOT NULL,
  thread_id        TEXT,
  parent_run_id    TEXT,
  status           TEXT    NOT NULL,
  phase            TEXT    NOT NULL,
  step             INTEGER NOT NULL DEFAULT 0,
  last_seq         INTEGER NOT NULL,
  last_hash        TEXT    NOT NULL,
  signal_seq       INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_epoch      INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  ready_at         INTEGER,
  idempotency_key  TEXT,
  model_calls      INTEGER NOT NULL DEFAULT 0,
  tool_calls       INTEGER NOT NULL DEFAULT 0,
  input_tokens     INTEGER NOT NULL DEFAULT 0,
  output_tokens    INTEGER NOT NULL DEFAULT 0,
  cost_micros      INTEGER NOT NULL DEFAULT 0,
  input            TEXT    NOT NULL,
  output           TEXT,
  error            TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  completed_at     INTEGER
);

CREATE UNIQUE INDEX runs_tenant_idempotency_key ON runs (tenant_id, idempotency_key);
CREATE INDEX runs_tenant_created ON runs (tenant_id, created_at);
CREATE INDEX runs_ready ON runs (ready_at) WHERE ready_at IS NOT NULL;
CREATE INDEX runs_lease_owner ON runs (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE run_events (
  run_id TEXT    NOT NULL REFERENCES runs (id),
  seq    INTEGER NOT NULL,
  type   TEXT    NOT NULL,
  data   TEXT    NOT NULL,
  at     TEXT    NOT NULL,
  epoch  INTEGER NOT NULL,
  hash   TEXT    NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE run_checkpoints (
  run_id        TEXT    NOT NULL REFERENCES runs (id),
  through_seq   INTEGER NOT NULL,
  step          INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  state_hash    TEXT    NOT NULL,
  previous_hash TEXT    NOT NULL,
  hash          TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (run_id, through_seq)
) WITHOUT ROWID;

CREATE TABLE run_signals (
  run_id TEXT    NOT NULL REFERENCES runs (id),
  seq    INTEGER NOT NULL,
  kind   TEXT    NOT NULL,
  data   TEXT    NOT NULL,
  at     INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE approvals (
  tenant_id      TEXT    NOT NULL,
  id             TEXT    NOT NULL PRIMARY KEY,
  run_id         TEXT    NOT NULL REFERENCES runs (id),
  kind           TEXT    NOT NULL,
  call_id        TEXT    NOT NULL,
  tool           TEXT    NOT NULL,
  arguments      TEXT    NOT NULL,
  arguments_hash TEXT    NOT NULL,
  risk_level     INTEGER NOT NULL,
  reason         TEXT    NOT NULL,
  status         TEXT    NOT NULL,
  decided_by     TEXT,
  decided_at     INTEGER,
  expires_at     INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
);

CREATE INDEX approvals_tenant_status_created ON approvals (tenant_id, status, created_at);
CREATE INDEX approvals_run_status ON approvals (run_id, status);

CREATE TABLE tool_invocations (
  tool            TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL,
  run_id          TEXT    NOT NULL REFERENCES runs (id),
  call_id         TEXT    NOT NULL,
  first_seq       INTEGER NOT NULL,
  status          TEXT    NOT NULL,
  attempts        INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (tool, idempotency_key)
);

CREATE INDEX tool_invocations_run_call ON tool_invocations (run_id, call_id);
