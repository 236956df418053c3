CREATE TABLE invitations_v1 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose TEXT NOT NULL CHECK (purpose IN ('patient', 'setup')),
    patient_id INTEGER REFERENCES patients (id),
    code_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    voided_at TIMESTAMP,
    CHECK ((purpose = 'patient') = (patient_id IS NOT NULL))
);
INSERT INTO invitations_v1 (id, purpose, patient_id, code_hash, created_by, created_at, expires_at, used_at, voided_at)
    SELECT id, purpose, patient_id, code_hash, created_by, created_at, expires_at, used_at, voided_at
    FROM invitations WHERE purpose <> 'staff';
DROP TABLE invitations;
ALTER TABLE invitations_v1 RENAME TO invitations;
CREATE INDEX invitations_patient ON invitations (patient_id);
ALTER TABLE login_sessions DROP COLUMN enrolment_only;
DROP TABLE mfa_challenges;
DROP TABLE recovery_codes;
DROP TABLE user_mfa;
