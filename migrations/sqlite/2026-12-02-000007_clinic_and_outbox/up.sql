-- The clinic's own settings: one row.
CREATE TABLE clinic (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    address TEXT,
    reminder_hour INTEGER NOT NULL DEFAULT 9 CHECK (reminder_hour BETWEEN 0 AND 23),
    require_mfa_for TEXT NOT NULL DEFAULT 'managers' CHECK (require_mfa_for IN ('managers', 'staff', 'none')),
    patients_see_photos BOOLEAN NOT NULL DEFAULT 0,
    updated_by INTEGER REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

-- A patient may refuse aftercare e-mails and reminders (not invitations or password resets).
ALTER TABLE patients ADD COLUMN reminders_opt_out BOOLEAN NOT NULL DEFAULT 0;

-- E-mail to send, written in the same transaction as the event that causes it and sent by a worker in
-- every process. A claim is a lease (claimed_until); a crashed worker's claims run out and are taken
-- again, with the same message_id.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'aftercare_day_of', 'reminder_day_1', 'reminder_days_2_7',
        'reminder_day_7_plus', 'password_reset')),
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'held', 'cancelled')),
    recipient TEXT NOT NULL,
    patient_id INTEGER REFERENCES patients (id),
    user_id INTEGER REFERENCES users (id),
    session_id INTEGER REFERENCES sessions (id),
    message_id TEXT NOT NULL UNIQUE,
    -- The link's secret (an activation code, a reset token) until the message is sent.
    payload TEXT,
    scheduled_for TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_patient ON outbox (patient_id, id);
CREATE INDEX outbox_session ON outbox (session_id);

-- Password reset links: only a hash of the token is kept; single use, short-lived.
CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets (user_id);
