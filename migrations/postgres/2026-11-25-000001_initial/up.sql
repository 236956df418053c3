-- Accounts. One role per account; a patient's account points at their patient record.
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'provider', 'patient')),
    password_hash TEXT NOT NULL,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE patients (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    email TEXT,
    phone TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patients_last_name ON patients (last_name, first_name);

ALTER TABLE users ADD COLUMN patient_id BIGINT UNIQUE REFERENCES patients (id);
ALTER TABLE users ADD CHECK ((role = 'patient') = (patient_id IS NOT NULL));

-- One-time codes: a patient's portal login, or the first manager's setup link. Only a hash is kept.
CREATE TABLE invitations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('patient', 'setup')),
    patient_id BIGINT REFERENCES patients (id),
    code_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    voided_at TIMESTAMP,
    CHECK ((purpose = 'patient') = (patient_id IS NOT NULL))
);
CREATE INDEX invitations_patient ON invitations (patient_id);

-- A course of treatment; at most one open per patient.
CREATE TABLE series (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id BIGINT NOT NULL REFERENCES patients (id),
    condition TEXT NOT NULL CHECK (condition IN ('acne_scars', 'fine_lines_and_wrinkles', 'enlarged_pores',
        'hyperpigmentation', 'stretch_marks', 'surgical_scars', 'other')),
    -- 5: clinic_domain::series::MAXIMUM
    planned_sessions INTEGER NOT NULL CHECK (planned_sessions BETWEEN 1 AND 5),
    reason TEXT,
    review_note TEXT,
    flagged_after_maximum BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('open', 'completed')),
    opened_by BIGINT NOT NULL REFERENCES users (id),
    opened_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    -- 3: clinic_domain::series::TYPICAL_MAX
    CHECK (planned_sessions <= 3 OR reason IS NOT NULL),
    CHECK (NOT flagged_after_maximum OR review_note IS NOT NULL)
);
CREATE UNIQUE INDEX series_one_open_per_patient ON series (patient_id) WHERE status = 'open';
CREATE INDEX series_opened_at ON series (opened_at);

-- Sessions: the schema holds the series rule too (numbers 1..5, unique within a series, and
-- an acknowledgement on every session beyond the typical three).
CREATE TABLE sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id BIGINT NOT NULL REFERENCES series (id),
    -- 5: clinic_domain::series::MAXIMUM
    session_number INTEGER NOT NULL CHECK (session_number BETWEEN 1 AND 5),
    performed_on DATE NOT NULL,
    provider_id BIGINT NOT NULL REFERENCES users (id),
    treatment_areas TEXT NOT NULL,
    eye_area BOOLEAN NOT NULL,
    device TEXT NOT NULL CHECK (device IN ('roller', 'pen')),
    -- 10 and 300: clinic_domain::session::NeedleDepth::MIN_HUNDREDTHS and MAX_HUNDREDTHS
    needle_depth_hundredths INTEGER NOT NULL CHECK (needle_depth_hundredths BETWEEN 10 AND 300),
    products_applied TEXT NOT NULL,
    notes TEXT,
    beyond_typical_ack_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (series_id, session_number),
    -- 3: clinic_domain::series::TYPICAL_MAX
    CHECK (session_number <= 3 OR beyond_typical_ack_by IS NOT NULL)
);
CREATE INDEX sessions_performed_on ON sessions (performed_on);
CREATE INDEX sessions_provider ON sessions (provider_id);

-- Refused attempts at a 6th session: kept for the manager's report.
CREATE TABLE series_refusals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id BIGINT NOT NULL REFERENCES series (id),
    provider_id BIGINT NOT NULL REFERENCES users (id),
    attempted_number INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX series_refusals_series ON series_refusals (series_id);

-- Signed-in sessions; a token is only good while its row is live.
CREATE TABLE login_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);

-- Append-only.
CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    action TEXT NOT NULL,
    patient_id BIGINT REFERENCES patients (id),
    subject TEXT,
    outcome TEXT NOT NULL,
    address TEXT,
    detail TEXT
);
CREATE INDEX audit_events_patient ON audit_events (patient_id, id);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Settings shared by every process on the database (e.g. the generated signing key).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
