DROP TABLE idempotency_keys;
DROP TABLE alerts;
DROP TABLE check_ins;
DROP TABLE session_revisions;
DROP TRIGGER sessions_voided ON sessions;
DROP FUNCTION sessions_voided();
