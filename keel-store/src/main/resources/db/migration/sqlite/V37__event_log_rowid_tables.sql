-- Keel store schema 37: run_events and run_checkpoints become ordinary (rowid) tables with their
-- primary key as a separate index (decision 0059). As WITHOUT ROWID tables their rows, event JSON
-- and whole checkpoint states, sat in the primary key's B-tree, keyed by run: every append split
-- pages all over a file that soon outgrew the page cache. Now rows are appended at the end of the
-- table and only the small (run_id, seq) key goes into the index. Same columns, same data.

CREATE TABLE run_events_v37 (
  run_id TEXT    NOT NULL REFERENCES runs (id),
  seq    INTEGER NOT NULL,
  type   TEXT    NOT NULL,
  data   TEXT    NOT NULL,
  at     TEXT    NOT NULL,
  epoch  INTEGER NOT NULL,
  hash   TEXT    NOT NULL,
  PRIMARY KEY (run_id, seq)
);
INSERT INTO run_events_v37 (run_id, seq, type, data, at, epoch, hash)
  SELECT run_id, seq, type, data, at, epoch, hash FROM run_events ORDER BY run_id, seq;
DROP TABLE run_events;
ALTER TABLE run_events_v37 RENAME TO run_events;

CREATE TABLE run_checkpoints_v37 (
  run_id        TEXT    NOT NULL REFERENCES runs (id),
  through_seq   INTEGER NOT NULL,
  step          INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  state_hash    TEXT    NOT NULL,
  previous_hash TEXT    NOT NULL,
  hash          TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (run_id, through_seq)
);
INSERT INTO run_checkpoints_v37
    (run_id, through_seq, step, state, state_hash, previous_hash, hash, created_at)
  SELECT run_id, through_seq, step, state, state_hash, previous_hash, hash, created_at
  FROM run_checkpoints ORDER BY run_id, through_seq;
DROP TABLE run_checkpoints;
ALTER TABLE run_checkpoints_v37 RENAME TO run_checkpoints;
