-- A second factor (TOTP, RFC 6238) per account: the secret, sealed with a key derived from the server's
-- secret; confirmed once a code from it was given; last_step is the last 30-second step accepted, so a
-- code is taken once.
CREATE TABLE user_mfa (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id),
    sealed_secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT
);
-- Ten single-use recovery codes per confirmed second factor, stored hashed.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL UNIQUE,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
-- The step between a right password and a code: the hash of the mfa_token sign-in returned.
CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
-- A session of an account the clinic's require_mfa_for covers, opened before it has a second factor:
-- it reaches only /me, /me/mfa/* and sign-out.
ALTER TABLE login_sessions ADD COLUMN enrolment_only BOOLEAN NOT NULL DEFAULT FALSE;
-- Staff are invited: the code sets the password of the account it names. SQLite cannot change a
-- CHECK, so the table is rebuilt.
CREATE TABLE invitations_v9 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose TEXT NOT NULL CHECK (purpose IN ('patient', 'setup', 'staff')),
    patient_id INTEGER REFERENCES patients (id),
    code_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    voided_at TIMESTAMP,
    user_id INTEGER REFERENCES users (id),
    CHECK ((purpose = 'patient') = (patient_id IS NOT NULL)),
    CHECK ((purpose = 'staff') = (user_id IS NOT NULL))
);
INSERT INTO invitations_v9 (id, purpose, patient_id, code_hash, created_by, created_at, expires_at, used_at, voided_at)
    SELECT id, purpose, patient_id, code_hash, created_by, created_at, expires_at, used_at, voided_at FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_v9 RENAME TO invitations;
CREATE INDEX invitations_patient ON invitations (patient_id);
CREATE INDEX invitations_user ON invitations (user_id);
