PRAGMA foreign_keys = OFF;
BEGIN;
-- Sessions can be corrected (each earlier version kept in session_revisions) and voided (kept, shown as
-- void, no longer counted): uniqueness of a number and the cap of five apply to sessions not voided.
CREATE TABLE sessions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id INTEGER NOT NULL REFERENCES series (id),
    -- 5: clinic_domain::series::MAXIMUM
    session_number INTEGER NOT NULL CHECK (session_number BETWEEN 1 AND 5),
    performed_on DATE NOT NULL,
    provider_id INTEGER NOT NULL REFERENCES users (id),
    treatment_areas TEXT NOT NULL,
    eye_area BOOLEAN NOT NULL,
    device TEXT NOT NULL CHECK (device IN ('roller', 'pen')),
    -- 10 and 300: clinic_domain::session::NeedleDepth::MIN_HUNDREDTHS and MAX_HUNDREDTHS
    needle_depth_hundredths INTEGER NOT NULL CHECK (needle_depth_hundredths BETWEEN 10 AND 300),
    products_applied TEXT NOT NULL,
    notes TEXT,
    beyond_typical_ack_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    patient_id INTEGER REFERENCES patients (id),
    -- clinic_domain::protocol::StageKey
    notes_stage TEXT NOT NULL DEFAULT 'days_2_7' CHECK (notes_stage IN ('day_of', 'day_1', 'days_2_7', 'day_7_plus')),
    revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    revised_at TIMESTAMP,
    revised_by INTEGER REFERENCES users (id),
    revision_reason TEXT,
    voided_at TIMESTAMP,
    voided_by INTEGER REFERENCES users (id),
    void_reason TEXT,
    -- 3: clinic_domain::series::TYPICAL_MAX
    CHECK (session_number <= 3 OR beyond_typical_ack_by IS NOT NULL),
    CHECK ((revision = 1) = (revised_at IS NULL)),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL))
);
INSERT INTO sessions_new (id, series_id, session_number, performed_on, provider_id, treatment_areas, eye_area, device,
    needle_depth_hundredths, products_applied, notes, beyond_typical_ack_by, created_at, patient_id)
SELECT id, series_id, session_number, performed_on, provider_id, treatment_areas, eye_area, device,
    needle_depth_hundredths, products_applied, notes, beyond_typical_ack_by, created_at, patient_id
FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE UNIQUE INDEX sessions_number ON sessions (series_id, session_number) WHERE voided_at IS NULL;
CREATE INDEX sessions_series ON sessions (series_id, session_number);
CREATE INDEX sessions_performed_on ON sessions (performed_on);
CREATE INDEX sessions_report ON sessions (provider_id, performed_on, patient_id, session_number) WHERE voided_at IS NULL;
CREATE INDEX sessions_patient ON sessions (patient_id, performed_on, id) WHERE voided_at IS NULL;
CREATE INDEX sessions_voided ON sessions (voided_at) WHERE voided_at IS NOT NULL;
CREATE TRIGGER sessions_counters AFTER INSERT ON sessions
BEGIN
    UPDATE series SET sessions_recorded = sessions_recorded + 1 WHERE id = NEW.series_id;
    UPDATE sessions SET patient_id = (SELECT patient_id FROM series WHERE id = NEW.series_id) WHERE id = NEW.id;
END;
-- A voided session no longer counts toward its series.
CREATE TRIGGER sessions_voided AFTER UPDATE OF voided_at ON sessions
WHEN OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL
BEGIN
    UPDATE series SET sessions_recorded = sessions_recorded - 1 WHERE id = NEW.series_id;
END;

-- Each earlier version of a session, with when, by whom and why it was made.
CREATE TABLE session_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    revision INTEGER NOT NULL,
    made_at TIMESTAMP NOT NULL,
    made_by INTEGER NOT NULL REFERENCES users (id),
    reason TEXT,
    performed_on DATE NOT NULL,
    treatment_areas TEXT NOT NULL,
    eye_area BOOLEAN NOT NULL,
    device TEXT NOT NULL,
    needle_depth_hundredths INTEGER NOT NULL,
    products_applied TEXT NOT NULL,
    notes TEXT,
    notes_stage TEXT NOT NULL,
    UNIQUE (session_id, revision)
);

-- A patient's check-ins: one per session and day (a later one the same day replaces, and keeps, the
-- earlier one).
CREATE TABLE check_ins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    day INTEGER NOT NULL CHECK (day BETWEEN 0 AND 7),
    effects TEXT NOT NULL,
    unexpected BOOLEAN NOT NULL,
    note TEXT,
    flagged BOOLEAN NOT NULL,
    flag_reasons TEXT,
    created_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP,
    CHECK (NOT unexpected OR note IS NOT NULL)
);
CREATE UNIQUE INDEX check_ins_one_a_day ON check_ins (session_id, day) WHERE replaced_at IS NULL;
CREATE INDEX check_ins_patient ON check_ins (patient_id, id);

-- The provider's attention queue: a flagged check-in, open until a provider resolves it.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    check_in_id INTEGER NOT NULL UNIQUE REFERENCES check_ins (id),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by INTEGER REFERENCES users (id),
    resolution_note TEXT,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX alerts_status ON alerts (status, id);

-- The first answer to a creating request sent with an Idempotency-Key, per account, for 24 hours.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
