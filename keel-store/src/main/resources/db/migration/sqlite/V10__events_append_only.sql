-- Version 10 makes run_events append-only on PostgreSQL (a trigger refusing UPDATE and DELETE).
-- SQLite is a single-user file: whoever can open it can rewrite it, triggers included, so no
-- trigger is added here; tampering is found by `keel audit verify` (the hash chains).
-- This migration keeps the two folders on the same version.
CREATE TABLE IF NOT EXISTS keel_schema_notes (version INTEGER PRIMARY KEY, note TEXT NOT NULL);
INSERT OR REPLACE INTO keel_schema_notes (version, note)
  VALUES (10, 'run_events append-only is enforced on PostgreSQL only');
