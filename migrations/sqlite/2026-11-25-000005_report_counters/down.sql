DROP INDEX series_report;
DROP INDEX sessions_report;
CREATE INDEX sessions_provider_performed_on ON sessions (provider_id, performed_on);
CREATE INDEX sessions_provider ON sessions (provider_id);
DROP TRIGGER sessions_counters;
ALTER TABLE sessions DROP COLUMN patient_id;
ALTER TABLE series DROP COLUMN sessions_recorded;
