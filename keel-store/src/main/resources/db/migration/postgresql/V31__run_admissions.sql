-- Keel store schema 31: admission slots, so quotas.runs-per-day and quotas.concurrent-runs-per-user
-- hold across server processes and under concurrent creates (dev.keel.store.jdbc.JdbcAdmissions,
-- docs/decisions/0044-atomic-run-admission.md). A slot is taken in the same transaction that
-- counts, under a per-tenant advisory lock; run_id is set once its run exists; finished marks
-- slots whose run has ended.
CREATE TABLE run_admissions (
  slot       TEXT    NOT NULL PRIMARY KEY,
  tenant_id  TEXT    NOT NULL,
  key_id     TEXT    NOT NULL,
  run_id     TEXT,
  finished   BIGINT  NOT NULL DEFAULT 0,
  created_at BIGINT  NOT NULL
);

CREATE INDEX run_admissions_key ON run_admissions (key_id, finished);
CREATE INDEX run_admissions_tenant ON run_admissions (tenant_id, created_at);

-- Row-level security and grants as for every tenant table (V30, docs/decisions/0043).
ALTER TABLE run_admissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_admissions FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON run_admissions
  USING (current_setting('keel.tenant', true) IN ('*', tenant_id))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant_id));

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keel_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON run_admissions TO keel_app;
  END IF;
END
$$;
