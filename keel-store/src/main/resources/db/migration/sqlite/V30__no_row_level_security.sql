-- Version 30 adds row-level security and an application role on PostgreSQL. SQLite has neither
-- roles nor RLS: on SQLite the tenant filter in every query of the application is the only wall
-- between tenants, and whoever can open the file can read and change everything. This migration
-- records that and keeps the two folders on the same version.
-- See docs/decisions/0043-postgres-row-level-security.md.
CREATE TABLE IF NOT EXISTS keel_schema_notes (version INTEGER PRIMARY KEY, note TEXT NOT NULL);
INSERT OR REPLACE INTO keel_schema_notes (version, note)
  VALUES (30, 'no row-level security on SQLite: the application tenant filter is the only wall');
