-- Keel store schema 6 (PostgreSQL): webhooks, and an index to count queued runs. A subscription per run with an outbox cursor over the
-- run's event log, a delivery per event to send, and every attempt of every delivery.

CREATE TABLE webhook_subscriptions (
  run_id      TEXT    NOT NULL PRIMARY KEY,
  tenant_id   TEXT    NOT NULL,
  url         TEXT    NOT NULL,
  scanned_seq BIGINT  NOT NULL DEFAULT 0,
  done        BIGINT  NOT NULL DEFAULT 0,
  created_at  BIGINT  NOT NULL
);

CREATE INDEX webhook_subscriptions_open ON webhook_subscriptions (done, created_at);

CREATE TABLE webhook_deliveries (
  id              TEXT    NOT NULL PRIMARY KEY,
  tenant_id       TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  seq             BIGINT  NOT NULL,
  type            TEXT    NOT NULL,
  url             TEXT    NOT NULL,
  body            TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  attempts        BIGINT  NOT NULL DEFAULT 0,
  next_attempt_at BIGINT  NOT NULL,
  lease_until     BIGINT  NOT NULL DEFAULT 0,
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_run ON webhook_deliveries (run_id, seq);

CREATE TABLE webhook_attempts (
  delivery_id TEXT    NOT NULL,
  attempt     BIGINT  NOT NULL,
  at          BIGINT  NOT NULL,
  http_status BIGINT  NOT NULL,
  error       TEXT    NOT NULL,
  duration_ms BIGINT  NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);

CREATE INDEX runs_status ON runs (status);
