-- Keel store schema 31: admission slots, so quotas.runs-per-day and quotas.concurrent-runs-per-user
-- hold across server processes and under concurrent creates (dev.keel.store.jdbc.JdbcAdmissions,
-- docs/decisions/0044-atomic-run-admission.md). A slot is taken in the same transaction that
-- counts; run_id is set once its run exists; finished marks slots whose run has ended.
CREATE TABLE run_admissions (
  slot       TEXT    NOT NULL PRIMARY KEY,
  tenant_id  TEXT    NOT NULL,
  key_id     TEXT    NOT NULL,
  run_id     TEXT,
  finished   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE INDEX run_admissions_key ON run_admissions (key_id, finished);
CREATE INDEX run_admissions_tenant ON run_admissions (tenant_id, created_at);
