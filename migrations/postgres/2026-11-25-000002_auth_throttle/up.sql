-- Failed sign-in and activation attempts, kept in the database so every process shares them.
-- key is e.g. 'account:ana@example.com', 'address:203.0.113.7' or 'code:<hash prefix>'.
CREATE TABLE auth_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
