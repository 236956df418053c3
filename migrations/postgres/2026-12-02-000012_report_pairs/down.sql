DROP INDEX series_flagged;
DROP INDEX series_report;
CREATE INDEX series_report ON series (opened_at, sessions_recorded, flagged_after_maximum);
DROP TRIGGER provider_patients_recount ON sessions;
DROP FUNCTION provider_patients_recount();
CREATE OR REPLACE FUNCTION sessions_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE series SET sessions_recorded = sessions_recorded + 1 WHERE id = NEW.series_id;
    NEW.patient_id := (SELECT patient_id FROM series WHERE id = NEW.series_id);
    RETURN NEW;
END;
$$;
DROP TABLE provider_patients;
