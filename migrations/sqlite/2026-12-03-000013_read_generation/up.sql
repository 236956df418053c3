-- A number on each account, raised by every change to the account, to one of its login sessions, or to
-- a session or series of its patient: all a signed-in patient's timeline reads beside the session's
-- own facts. A server that kept such a read checks this one number instead of reading it all again.
ALTER TABLE users ADD COLUMN read_generation INTEGER NOT NULL DEFAULT 0;

-- The triggers below raise it themselves (and so skip this one).
CREATE TRIGGER users_read_generation AFTER UPDATE ON users
WHEN NEW.read_generation = OLD.read_generation
BEGIN
    UPDATE users SET read_generation = OLD.read_generation + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER login_sessions_read_generation_insert AFTER INSERT ON login_sessions
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER login_sessions_read_generation_update AFTER UPDATE ON login_sessions
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
CREATE TRIGGER login_sessions_read_generation_delete AFTER DELETE ON login_sessions
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE id = OLD.user_id;
END;

-- A new session needs no trigger of its own: its insert raises its series' count and fills in its
-- patient (sessions_counters), and the series' update raises the number; so the filling in (the one
-- update of a session without a patient) is skipped here.
CREATE TRIGGER sessions_read_generation_update AFTER UPDATE ON sessions
WHEN OLD.patient_id IS NOT NULL
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id IN (OLD.patient_id, NEW.patient_id);
END;
CREATE TRIGGER sessions_read_generation_delete AFTER DELETE ON sessions
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
END;

CREATE TRIGGER series_read_generation_insert AFTER INSERT ON series
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = NEW.patient_id;
END;
CREATE TRIGGER series_read_generation_update AFTER UPDATE ON series
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id IN (OLD.patient_id, NEW.patient_id);
END;
CREATE TRIGGER series_read_generation_delete AFTER DELETE ON series
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
END;
