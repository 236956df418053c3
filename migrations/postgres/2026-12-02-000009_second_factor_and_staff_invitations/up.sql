-- A second factor (TOTP, RFC 6238) per account: the secret, sealed with a key derived from the server's
-- secret; confirmed once a code from it was given; last_step is the last 30-second step accepted, so a
-- code is taken once.
CREATE TABLE user_mfa (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    sealed_secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT
);
-- Ten single-use recovery codes per confirmed second factor, stored hashed.
CREATE TABLE recovery_codes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL UNIQUE,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
-- The step between a right password and a code: the hash of the mfa_token sign-in returned.
CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
-- A session of an account the clinic's require_mfa_for covers, opened before it has a second factor:
-- it reaches only /me, /me/mfa/* and sign-out.
ALTER TABLE login_sessions ADD COLUMN enrolment_only BOOLEAN NOT NULL DEFAULT FALSE;
-- Staff are invited: the code sets the password of the account it names.
ALTER TABLE invitations ADD COLUMN user_id BIGINT REFERENCES users (id);
ALTER TABLE invitations DROP CONSTRAINT invitations_purpose_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_purpose_check CHECK (purpose IN ('patient', 'setup', 'staff'));
ALTER TABLE invitations ADD CONSTRAINT invitations_staff_check CHECK ((purpose = 'staff') = (user_id IS NOT NULL));
CREATE INDEX invitations_user ON invitations (user_id);
