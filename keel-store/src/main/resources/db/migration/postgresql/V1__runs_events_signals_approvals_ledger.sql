-- Keel store schema 1 (PostgreSQL). Times are epoch milliseconds by the store's clock, except
-- run_events.at, which is the engine's Instant stored exactly as ISO-8601 text because the event
-- chain hash covers it. JSON that is hashed (event data, checkpoint state, approval arguments) is
-- stored as the exact canonical text; the run row's input, output and error are JSONB for queries.

CREATE TABLE runs (
  tenant_id        TEXT    NOT NULL,
  id               TEXT    NOT NULL PRIMARY KEY,
  agent_name       TEXT    NOT NULL,
  agent_version    TEXT    NOT NULL,
  thread_id        TEXT,
  parent_run_id    TEXT,
  status           TEXT    NOT NULL,
  phase            TEXT    NOT NULL,
  step             BIGINT NOT NULL DEFAULT 0,
  last_seq         BIGINT NOT NULL,
  last_hash        TEXT    NOT NULL,
  signal_seq       BIGINT NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_epoch      BIGINT NOT NULL DEFAULT 0,
  lease_expires_at BIGINT,
  ready_at         BIGINT,
  idempotency_key  TEXT,
  model_calls      BIGINT NOT NULL DEFAULT 0,
  tool_calls       BIGINT NOT NULL DEFAULT 0,
  input_tokens     BIGINT NOT NULL DEFAULT 0,
  output_tokens    BIGINT NOT NULL DEFAULT 0,
  cost_micros      BIGINT NOT NULL DEFAULT 0,
  input            JSONB   NOT NULL,
  output           JSONB,
  error            JSONB,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  completed_at     BIGINT
);

CREATE UNIQUE INDEX runs_tenant_idempotency_key ON runs (tenant_id, idempotency_key);
CREATE INDEX runs_tenant_created ON runs (tenant_id, created_at);
CREATE INDEX runs_ready ON runs (ready_at) WHERE ready_at IS NOT NULL;
CREATE INDEX runs_lease_owner ON runs (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE run_events (
  run_id TEXT    NOT NULL REFERENCES runs (id),
  seq    BIGINT NOT NULL,
  type   TEXT    NOT NULL,
  data   TEXT    NOT NULL,
  at     TEXT    NOT NULL,
  epoch  BIGINT NOT NULL,
  hash   TEXT    NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_checkpoints (
  run_id        TEXT    NOT NULL REFERENCES runs (id),
  through_seq   BIGINT NOT NULL,
  step          BIGINT NOT NULL,
  state         TEXT    NOT NULL,
  state_hash    TEXT    NOT NULL,
  previous_hash TEXT    NOT NULL,
  hash          TEXT    NOT NULL,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (run_id, through_seq)
);

CREATE TABLE run_signals (
  run_id TEXT    NOT NULL REFERENCES runs (id),
  seq    BIGINT NOT NULL,
  kind   TEXT    NOT NULL,
  data   TEXT    NOT NULL,
  at     BIGINT NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE approvals (
  tenant_id      TEXT    NOT NULL,
  id             TEXT    NOT NULL PRIMARY KEY,
  run_id         TEXT    NOT NULL REFERENCES runs (id),
  kind           TEXT    NOT NULL,
  call_id        TEXT    NOT NULL,
  tool           TEXT    NOT NULL,
  arguments      TEXT    NOT NULL,
  arguments_hash TEXT    NOT NULL,
  risk_level     BIGINT NOT NULL,
  reason         TEXT    NOT NULL,
  status         TEXT    NOT NULL,
  decided_by     TEXT,
  decided_at     BIGINT,
  expires_at     BIGINT NOT NULL,
  created_at     BIGINT NOT NULL
);

CREATE INDEX approvals_tenant_status_created ON approvals (tenant_id, status, created_at);
CREATE INDEX approvals_run_status ON approvals (run_id, status);

CREATE TABLE tool_invocations (
  tool            TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL,
  run_id          TEXT    NOT NULL REFERENCES runs (id),
  call_id         TEXT    NOT NULL,
  first_seq       BIGINT NOT NULL,
  status          TEXT    NOT NULL,
  attempts        BIGINT NOT NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  PRIMARY KEY (tool, idempotency_key)
);

CREATE INDEX tool_invocations_run_call ON tool_invocations (run_id, call_id);
