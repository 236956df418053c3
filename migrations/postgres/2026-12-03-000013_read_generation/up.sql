-- A number on each account, raised by every change to the account, to one of its login sessions, or to
-- a session or series of its patient: all a signed-in patient's timeline reads beside the session's
-- own facts. A server that kept such a read checks this one number instead of reading it all again.
ALTER TABLE users ADD COLUMN read_generation BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION users_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.read_generation := OLD.read_generation + 1;
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_read_generation BEFORE UPDATE ON users FOR EACH ROW
    WHEN (NEW.read_generation = OLD.read_generation) EXECUTE FUNCTION users_read_generation();

CREATE FUNCTION account_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE id = OLD.user_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id <> OLD.user_id) THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER login_sessions_read_generation AFTER INSERT OR UPDATE OR DELETE ON login_sessions
    FOR EACH ROW EXECUTE FUNCTION account_read_generation();

-- For sessions and series alike: both name their patient. A new session needs no trigger of its own:
-- its insert raises its series' count (sessions_counters), and that update raises the number.
CREATE FUNCTION patient_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.patient_id IS DISTINCT FROM OLD.patient_id) THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = NEW.patient_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER sessions_read_generation AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION patient_read_generation();
CREATE TRIGGER series_read_generation AFTER INSERT OR UPDATE OR DELETE ON series
    FOR EACH ROW EXECUTE FUNCTION patient_read_generation();
