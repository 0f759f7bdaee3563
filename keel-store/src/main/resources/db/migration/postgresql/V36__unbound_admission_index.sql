-- Keel store schema 36: the slots of creates in flight (not yet bound to a run, not finished) have
-- an index of their own, so counting them for quotas.runs-per-day reads those few entries instead
-- of every slot the tenant took since the start of the grace window (decision 0048).
CREATE INDEX run_admissions_unbound ON run_admissions (tenant_id, created_at)
  WHERE run_id IS NULL AND finished = 0;
