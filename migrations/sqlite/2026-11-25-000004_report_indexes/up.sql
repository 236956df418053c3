-- The series report counts refusals and actions by date, and groups sessions by provider and date.
CREATE INDEX series_refusals_created_at ON series_refusals (created_at);
CREATE INDEX sessions_provider_performed_on ON sessions (provider_id, performed_on);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
