-- The series report's per-provider figures come from one row per provider and patient instead of a
-- distinct count over every session: how many sessions (not void) the provider performed for the
-- patient, how many of them beyond typical, and the first and last day. Triggers keep it right.
CREATE TABLE provider_patients (
    provider_id INTEGER NOT NULL REFERENCES users (id),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    -- NULL when no session counts any more (all void)
    first_on DATE,
    last_on DATE,
    sessions INTEGER NOT NULL CHECK (sessions >= 0),
    -- 3: clinic_domain::series::TYPICAL_MAX
    beyond_typical INTEGER NOT NULL CHECK (beyond_typical >= 0),
    PRIMARY KEY (provider_id, patient_id)
) WITHOUT ROWID;
INSERT INTO provider_patients
SELECT provider_id, patient_id, MIN(performed_on), MAX(performed_on), COUNT(*), COUNT(CASE WHEN session_number > 3 THEN 1 END)
FROM sessions WHERE voided_at IS NULL GROUP BY provider_id, patient_id;

-- A new session adds to its pair.
CREATE TRIGGER provider_patients_add AFTER INSERT ON sessions
BEGIN
    INSERT INTO provider_patients VALUES (NEW.provider_id, (SELECT patient_id FROM series WHERE id = NEW.series_id),
        NEW.performed_on, NEW.performed_on, 1, CASE WHEN NEW.session_number > 3 THEN 1 ELSE 0 END)
    ON CONFLICT (provider_id, patient_id) DO UPDATE SET
        first_on = IFNULL(MIN(first_on, excluded.first_on), excluded.first_on),
        last_on = IFNULL(MAX(last_on, excluded.last_on), excluded.last_on),
        sessions = sessions + 1,
        beyond_typical = beyond_typical + excluded.beyond_typical;
END;

-- A void or a corrected date: the pair is counted again from its sessions.
CREATE TRIGGER provider_patients_recount AFTER UPDATE OF performed_on, voided_at ON sessions
WHEN OLD.performed_on IS NOT NEW.performed_on OR OLD.voided_at IS NOT NEW.voided_at
BEGIN
    UPDATE provider_patients SET (first_on, last_on, sessions, beyond_typical) = (
        SELECT MIN(s.performed_on), MAX(s.performed_on), COUNT(*), COUNT(CASE WHEN s.session_number > 3 THEN 1 END)
        FROM sessions s
        -- "+": by the patient's sessions (a few), not the provider's (all of them)
        WHERE s.patient_id = NEW.patient_id AND +s.provider_id = NEW.provider_id AND s.voided_at IS NULL)
    WHERE provider_id = NEW.provider_id AND patient_id = NEW.patient_id;
END;

-- The report counts series by sessions recorded (one index range per count) and flagged series apart.
DROP INDEX series_report;
CREATE INDEX series_report ON series (sessions_recorded, opened_at);
CREATE INDEX series_flagged ON series (opened_at) WHERE flagged_after_maximum;
