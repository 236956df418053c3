-- Sessions can be corrected (each earlier version kept in session_revisions) and voided (kept, shown as
-- void, no longer counted): uniqueness of a number and the cap of five apply to sessions not voided.
ALTER TABLE sessions
    -- clinic_domain::protocol::StageKey
    ADD COLUMN notes_stage TEXT NOT NULL DEFAULT 'days_2_7' CHECK (notes_stage IN ('day_of', 'day_1', 'days_2_7', 'day_7_plus')),
    ADD COLUMN revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    ADD COLUMN revised_at TIMESTAMP,
    ADD COLUMN revised_by BIGINT REFERENCES users (id),
    ADD COLUMN revision_reason TEXT,
    ADD COLUMN voided_at TIMESTAMP,
    ADD COLUMN voided_by BIGINT REFERENCES users (id),
    ADD COLUMN void_reason TEXT,
    ADD CHECK ((revision = 1) = (revised_at IS NULL)),
    ADD CHECK ((voided_at IS NULL) = (void_reason IS NULL));
ALTER TABLE sessions DROP CONSTRAINT sessions_series_id_session_number_key;
CREATE UNIQUE INDEX sessions_number ON sessions (series_id, session_number) WHERE voided_at IS NULL;
CREATE INDEX sessions_series ON sessions (series_id, session_number);
DROP INDEX sessions_report;
CREATE INDEX sessions_report ON sessions (provider_id, performed_on, patient_id, session_number) WHERE voided_at IS NULL;
DROP INDEX sessions_patient;
CREATE INDEX sessions_patient ON sessions (patient_id, performed_on, id) WHERE voided_at IS NULL;
CREATE INDEX sessions_voided ON sessions (voided_at) WHERE voided_at IS NOT NULL;
-- A voided session no longer counts toward its series.
CREATE FUNCTION sessions_voided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE series SET sessions_recorded = sessions_recorded - 1 WHERE id = NEW.series_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER sessions_voided AFTER UPDATE OF voided_at ON sessions FOR EACH ROW
    WHEN (OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL) EXECUTE FUNCTION sessions_voided();

-- Each earlier version of a session, with when, by whom and why it was made.
CREATE TABLE session_revisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    revision INTEGER NOT NULL,
    made_at TIMESTAMP NOT NULL,
    made_by BIGINT NOT NULL REFERENCES users (id),
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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    patient_id BIGINT NOT NULL REFERENCES patients (id),
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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_in_id BIGINT NOT NULL UNIQUE REFERENCES check_ins (id),
    patient_id BIGINT NOT NULL REFERENCES patients (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by BIGINT REFERENCES users (id),
    resolution_note TEXT,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX alerts_status ON alerts (status, id);

-- The first answer to a creating request sent with an Idempotency-Key, per account, for 24 hours.
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
