-- Keel store schema 5 (PostgreSQL): durable Idempotency-Key answers, and indexes for listing runs of
-- a tenant newest first by keyset (created_at DESC, id DESC), optionally by status, agent or thread.

CREATE TABLE idempotency_keys (
  tenant_id    TEXT    NOT NULL,
  scope        TEXT    NOT NULL,
  idem_key     TEXT    NOT NULL,
  request_hash TEXT    NOT NULL,
  status       BIGINT,
  response     TEXT,
  created_at   BIGINT  NOT NULL,
  locked_until BIGINT  NOT NULL,
  PRIMARY KEY (tenant_id, scope, idem_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE INDEX runs_list_tenant ON runs (tenant_id, created_at, id);
CREATE INDEX runs_list_status ON runs (tenant_id, status, created_at, id);
CREATE INDEX runs_list_agent ON runs (tenant_id, agent_name, created_at, id);
CREATE INDEX runs_list_thread ON runs (tenant_id, thread_id, created_at, id);
