-- Budgets shared by many runs (a tenant's), and the reservations made against them.
-- Written only by dev.keel.store.jdbc.JdbcCostLedger.
CREATE TABLE tenant_budgets (
  tenant          TEXT    NOT NULL PRIMARY KEY,
  limit_micros    INTEGER NOT NULL CHECK (limit_micros >= 0),
  reserved_micros INTEGER NOT NULL DEFAULT 0 CHECK (reserved_micros >= 0),
  spent_micros    INTEGER NOT NULL DEFAULT 0 CHECK (spent_micros >= 0)
);

CREATE TABLE cost_reservations (
  tenant          TEXT    NOT NULL,
  reservation_id  TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  reserved_micros INTEGER NOT NULL CHECK (reserved_micros >= 0),
  actual_micros   INTEGER,
  status          TEXT    NOT NULL CHECK (status IN ('open', 'settled')),
  created_ms      INTEGER NOT NULL,
  PRIMARY KEY (tenant, reservation_id)
);

CREATE INDEX cost_reservations_run ON cost_reservations (run_id);
