-- Keel store schema 30 (PostgreSQL): row-level security, the second wall between tenants, and the
-- application role that cannot lift it. See docs/decisions/0043-postgres-row-level-security.md.
--
-- Migrations run as the owner of the tables (store.user). Keel works as a role that is a member of
-- the group role keel_app (store.app-user): it neither owns the tables nor bypasses RLS, may read
-- and insert run_events but never update or delete them, and cannot ALTER or DISABLE anything.
--
-- Every transaction sets keel.tenant (set_config(..., true), dev.keel.store.jdbc.PgScope): a tenant
-- id for work done for one API key's tenant, '*' for work done for every tenant (claims, workers,
-- the webhook dispatcher, admin commands). A transaction that sets nothing sees no rows. FORCE
-- makes the owner subject too, so a deployment that works as the owner still has the wall against
-- a query that forgets its tenant filter (only a superuser or BYPASSRLS role skips it).

-- The group role, created if this migrator may; otherwise an operator creates it (NOLOGIN) and
-- re-runs the grants below. Concurrent migrations of two databases may race on the name.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keel_app') THEN
    BEGIN
      CREATE ROLE keel_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'keel: cannot create role keel_app (no CREATEROLE); create it and grant it '
          'what V30__row_level_security.sql grants';
    END;
  END IF;
END
$$;

-- API keys: looked up by id before any tenant is known, so not tenant-scoped (only hashes of
-- secrets are kept). Created here so the application role does not need CREATE on the schema.
CREATE TABLE IF NOT EXISTS keel_api_keys (
  id          VARCHAR(64) PRIMARY KEY,
  tenant      VARCHAR(64) NOT NULL,
  role        VARCHAR(16) NOT NULL,
  scopes      VARCHAR(256) NOT NULL,
  secret_hash CHAR(64)    NOT NULL,
  created_at  VARCHAR(40) NOT NULL
);

-- Tables with a tenant column.
ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON runs
  USING (current_setting('keel.tenant', true) IN ('*', tenant_id))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant_id));

ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
ALTER TABLE approvals FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON approvals
  USING (current_setting('keel.tenant', true) IN ('*', tenant_id))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant_id));

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON idempotency_keys
  USING (current_setting('keel.tenant', true) IN ('*', tenant_id))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant_id));

ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON webhook_subscriptions
  USING (current_setting('keel.tenant', true) IN ('*', tenant_id))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant_id));

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON webhook_deliveries
  USING (current_setting('keel.tenant', true) IN ('*', tenant_id))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant_id));

ALTER TABLE tenant_budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_budgets FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON tenant_budgets
  USING (current_setting('keel.tenant', true) IN ('*', tenant))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant));

ALTER TABLE cost_reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE cost_reservations FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON cost_reservations
  USING (current_setting('keel.tenant', true) IN ('*', tenant))
  WITH CHECK (current_setting('keel.tenant', true) IN ('*', tenant));

-- Tables of a run: visible with their run (the run row's tenant decides).
ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_events FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON run_events
  USING (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = run_events.run_id AND r.tenant_id = current_setting('keel.tenant', true)))
  WITH CHECK (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = run_events.run_id AND r.tenant_id = current_setting('keel.tenant', true)));

ALTER TABLE run_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON run_checkpoints
  USING (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = run_checkpoints.run_id AND r.tenant_id = current_setting('keel.tenant', true)))
  WITH CHECK (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = run_checkpoints.run_id AND r.tenant_id = current_setting('keel.tenant', true)));

ALTER TABLE run_signals ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_signals FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON run_signals
  USING (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = run_signals.run_id AND r.tenant_id = current_setting('keel.tenant', true)))
  WITH CHECK (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = run_signals.run_id AND r.tenant_id = current_setting('keel.tenant', true)));

ALTER TABLE tool_invocations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tool_invocations FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON tool_invocations
  USING (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = tool_invocations.run_id AND r.tenant_id = current_setting('keel.tenant', true)))
  WITH CHECK (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM runs r
    WHERE r.id = tool_invocations.run_id AND r.tenant_id = current_setting('keel.tenant', true)));

ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY keel_tenant ON webhook_attempts
  USING (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM webhook_deliveries d
    WHERE d.id = webhook_attempts.delivery_id
      AND d.tenant_id = current_setting('keel.tenant', true)))
  WITH CHECK (current_setting('keel.tenant', true) = '*' OR EXISTS (SELECT 1 FROM webhook_deliveries d
    WHERE d.id = webhook_attempts.delivery_id
      AND d.tenant_id = current_setting('keel.tenant', true)));

-- What the application role may do: never UPDATE or DELETE evidence (run_events, checkpoints,
-- signals, webhook attempts), never TRUNCATE, ALTER or DROP anything (it owns nothing).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keel_app') THEN
    RETURN;
  END IF;
  IF NOT has_schema_privilege('keel_app', current_schema(), 'USAGE') THEN
    BEGIN
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO keel_app', current_schema());
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'keel: cannot grant USAGE on schema % to keel_app; its owner must',
        current_schema();
    END;
  END IF;
  GRANT SELECT, INSERT, UPDATE ON runs, approvals, tool_invocations, webhook_subscriptions,
    webhook_deliveries, tenant_budgets, cost_reservations TO keel_app;
  GRANT SELECT, INSERT ON run_events, run_checkpoints, run_signals, webhook_attempts,
    keel_api_keys TO keel_app;
  GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO keel_app;
  GRANT SELECT ON flyway_schema_history TO keel_app;
END
$$;
