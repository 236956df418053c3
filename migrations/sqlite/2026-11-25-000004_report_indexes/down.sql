DROP INDEX audit_events_action;
DROP INDEX audit_events_actor;
DROP INDEX sessions_provider_performed_on;
DROP INDEX series_refusals_created_at;
