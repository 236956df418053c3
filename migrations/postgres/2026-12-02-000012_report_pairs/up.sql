-- The series report's per-provider figures come from one row per provider and patient instead of a
-- distinct count over every session: how many sessions (not void) the provider performed for the
-- patient, how many of them beyond typical, and the first and last day. Triggers keep it right.
CREATE TABLE provider_patients (
    provider_id BIGINT NOT NULL REFERENCES users (id),
    patient_id BIGINT NOT NULL REFERENCES patients (id),
    -- NULL when no session counts any more (all void)
    first_on DATE,
    last_on DATE,
    sessions INTEGER NOT NULL CHECK (sessions >= 0),
    -- 3: clinic_domain::series::TYPICAL_MAX
    beyond_typical INTEGER NOT NULL CHECK (beyond_typical >= 0),
    PRIMARY KEY (provider_id, patient_id)
);
INSERT INTO provider_patients
SELECT provider_id, patient_id, MIN(performed_on), MAX(performed_on), COUNT(*), COUNT(*) FILTER (WHERE session_number > 3)
FROM sessions WHERE voided_at IS NULL GROUP BY provider_id, patient_id;

-- A new session adds to its pair (the row lock of the upsert orders concurrent writers).
CREATE OR REPLACE FUNCTION sessions_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE series SET sessions_recorded = sessions_recorded + 1 WHERE id = NEW.series_id;
    NEW.patient_id := (SELECT patient_id FROM series WHERE id = NEW.series_id);
    INSERT INTO provider_patients AS p VALUES (NEW.provider_id, NEW.patient_id, NEW.performed_on, NEW.performed_on, 1,
        CASE WHEN NEW.session_number > 3 THEN 1 ELSE 0 END)
    ON CONFLICT (provider_id, patient_id) DO UPDATE SET
        first_on = LEAST(p.first_on, EXCLUDED.first_on),
        last_on = GREATEST(p.last_on, EXCLUDED.last_on),
        sessions = p.sessions + 1,
        beyond_typical = p.beyond_typical + EXCLUDED.beyond_typical;
    RETURN NEW;
END;
$$;

-- A void or a corrected date: the pair is counted again from its sessions, after its row is locked, so
-- the count (a statement of its own, with a fresh snapshot) sees every writer that came first.
CREATE FUNCTION provider_patients_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM provider_patients WHERE provider_id = NEW.provider_id AND patient_id = NEW.patient_id FOR UPDATE;
    UPDATE provider_patients p SET (first_on, last_on, sessions, beyond_typical) = (
        SELECT MIN(s.performed_on), MAX(s.performed_on), COUNT(*), COUNT(*) FILTER (WHERE s.session_number > 3)
        FROM sessions s
        WHERE s.provider_id = NEW.provider_id AND s.patient_id = NEW.patient_id AND s.voided_at IS NULL)
    WHERE p.provider_id = NEW.provider_id AND p.patient_id = NEW.patient_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER provider_patients_recount AFTER UPDATE OF performed_on, voided_at ON sessions FOR EACH ROW
    WHEN (OLD.performed_on IS DISTINCT FROM NEW.performed_on OR OLD.voided_at IS DISTINCT FROM NEW.voided_at)
    EXECUTE FUNCTION provider_patients_recount();

-- The report counts series by sessions recorded (one index range per count) and flagged series apart.
DROP INDEX series_report;
CREATE INDEX series_report ON series (sessions_recorded, opened_at);
CREATE INDEX series_flagged ON series (opened_at) WHERE flagged_after_maximum;
