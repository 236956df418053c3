DROP TRIGGER series_read_generation ON series;
DROP TRIGGER sessions_read_generation ON sessions;
DROP FUNCTION patient_read_generation();
DROP TRIGGER login_sessions_read_generation ON login_sessions;
DROP FUNCTION account_read_generation();
DROP TRIGGER users_read_generation ON users;
DROP FUNCTION users_read_generation();
ALTER TABLE users DROP COLUMN read_generation;
