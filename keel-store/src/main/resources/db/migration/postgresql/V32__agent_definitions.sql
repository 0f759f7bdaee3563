-- Keel store schema 32: every agent version a deployment registers, so a run pinned to a version
-- resumes after a restart or on a worker that never loaded that file
-- (dev.keel.store.jdbc.JdbcAgentDefinitions, docs/decisions/0024-agent-versions-in-the-store.md).
-- Agent definitions are deployment-wide, like the folder they come from: no tenant column and no
-- row-level security. Rows are immutable: the application role may read and insert, never update
-- or delete.
CREATE TABLE agent_definitions (
  name         TEXT   NOT NULL,
  version      TEXT   NOT NULL,
  content_hash TEXT   NOT NULL,
  definition   TEXT   NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (name, version)
);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keel_app') THEN
    GRANT SELECT, INSERT ON agent_definitions TO keel_app;
  END IF;
END
$$;
