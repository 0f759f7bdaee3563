-- Keel store schema 37 changes how SQLite lays out run_events and run_checkpoints (rowid tables
-- instead of WITHOUT ROWID, decision 0059). PostgreSQL heap tables already append rows and keep
-- the primary key in a separate index, so nothing changes here; this migration keeps the two
-- folders on the same version.
COMMENT ON TABLE run_events IS
  'The append-only event log of every run (decision 0053); the primary key is (run_id, seq).';
