-- The series report reads counters instead of joining sessions to series: each series keeps how many
-- sessions it has, and each session names its patient. A trigger keeps both right whoever inserts.
-- 5: clinic_domain::series::MAXIMUM
ALTER TABLE series ADD COLUMN sessions_recorded INTEGER NOT NULL DEFAULT 0 CHECK (sessions_recorded BETWEEN 0 AND 5);
UPDATE series SET sessions_recorded = (SELECT COUNT(*) FROM sessions WHERE sessions.series_id = series.id);
ALTER TABLE sessions ADD COLUMN patient_id BIGINT REFERENCES patients (id);
UPDATE sessions SET patient_id = (SELECT patient_id FROM series WHERE series.id = sessions.series_id);
CREATE FUNCTION sessions_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE series SET sessions_recorded = sessions_recorded + 1 WHERE id = NEW.series_id;
    NEW.patient_id := (SELECT patient_id FROM series WHERE id = NEW.series_id);
    RETURN NEW;
END;
$$;
CREATE TRIGGER sessions_counters BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_counters();
DROP INDEX sessions_provider_performed_on;
-- sessions_report leads with provider_id and serves what sessions_provider did.
DROP INDEX sessions_provider;
CREATE INDEX sessions_report ON sessions (provider_id, performed_on, patient_id, session_number);
CREATE INDEX series_report ON series (opened_at, sessions_recorded, flagged_after_maximum);
