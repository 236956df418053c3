DROP INDEX series_flagged;
DROP INDEX series_report;
CREATE INDEX series_report ON series (opened_at, sessions_recorded, flagged_after_maximum);
DROP TRIGGER provider_patients_recount;
DROP TRIGGER provider_patients_add;
DROP TABLE provider_patients;
