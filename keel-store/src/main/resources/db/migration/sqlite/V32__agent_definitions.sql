-- Keel store schema 32: every agent version a deployment registers, so a run pinned to a version
-- resumes after a restart (dev.keel.store.jdbc.JdbcAgentDefinitions,
-- docs/decisions/0024-agent-versions-in-the-store.md). Deployment-wide: no tenant column.
CREATE TABLE agent_definitions (
  name         TEXT    NOT NULL,
  version      TEXT    NOT NULL,
  content_hash TEXT    NOT NULL,
  definition   TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
