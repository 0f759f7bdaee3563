-- Keel store schema 35: two fewer index entries written per created run (decision 0046).
-- runs_tenant_created (tenant_id, created_at) is a prefix of runs_list_tenant (tenant_id,
-- created_at, id), which serves every query it served. The unique (tenant_id, idempotency_key)
-- index now holds only runs created with a key: the others (most runs) have no entry to write.
-- Both ON CONFLICT DO NOTHING (no target) and the lookup by tenant and key still use it.
DROP INDEX runs_tenant_created;
DROP INDEX runs_tenant_idempotency_key;
CREATE UNIQUE INDEX runs_tenant_idempotency_key ON runs (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
