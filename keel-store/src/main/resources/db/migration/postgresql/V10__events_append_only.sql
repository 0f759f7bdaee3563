-- Events are append-only for the application: no code path updates or deletes a row of
-- run_events (forks copy into a new run; there is no retention job), so any UPDATE or DELETE is
-- tampering or a bug and is refused. TRUNCATE (test clean-up, a deliberate operator action) is
-- not a row change and is not blocked. See docs/decisions/0053-append-only-events.md.
CREATE OR REPLACE FUNCTION keel_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'run_events is append-only: % of run % seq % refused', TG_OP, OLD.run_id, OLD.seq
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'events are evidence; record a new event instead of changing one';
END
$$;

CREATE TRIGGER run_events_append_only
  BEFORE UPDATE OR DELETE ON run_events
  FOR EACH ROW EXECUTE FUNCTION keel_refuse_event_change();
