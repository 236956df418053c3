-- A number per patient, raised by every change to one of their series, sessions, consents or photos:
-- the lists of the provider's patient page that a server keeps between requests. It checks this one
-- number (read with the patient's own row, which it reads each time) instead of reading them again.
-- A row appears with the patient's first change; no row reads as 0.
CREATE TABLE chart_generations (
    patient_id INTEGER PRIMARY KEY NOT NULL,
    generation INTEGER NOT NULL
);

-- Series and sessions already raise the patient's account's number (000013): one trigger per table
-- and operation raises both. A new session needs no trigger of its own: its insert raises its
-- series' count and fills in its patient (sessions_counters), and the series' update raises the
-- numbers; so the filling in (the one update of a session without a patient) is skipped here.
DROP TRIGGER sessions_read_generation_update;
DROP TRIGGER sessions_read_generation_delete;
DROP TRIGGER series_read_generation_insert;
DROP TRIGGER series_read_generation_update;
DROP TRIGGER series_read_generation_delete;
CREATE TRIGGER series_generations_insert AFTER INSERT ON series
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = NEW.patient_id;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER series_generations_update AFTER UPDATE ON series
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id IN (OLD.patient_id, NEW.patient_id);
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL AND NEW.patient_id IS NOT OLD.patient_id
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER series_generations_delete AFTER DELETE ON series
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER sessions_generations_update AFTER UPDATE ON sessions
WHEN OLD.patient_id IS NOT NULL
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id IN (OLD.patient_id, NEW.patient_id);
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL AND NEW.patient_id IS NOT OLD.patient_id
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER sessions_generations_delete AFTER DELETE ON sessions
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER consents_chart_generation_insert AFTER INSERT ON consents
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER consents_chart_generation_update AFTER UPDATE ON consents
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL AND NEW.patient_id IS NOT OLD.patient_id
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER consents_chart_generation_delete AFTER DELETE ON consents
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER photos_chart_generation_insert AFTER INSERT ON photos
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER photos_chart_generation_update AFTER UPDATE ON photos
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL AND NEW.patient_id IS NOT OLD.patient_id
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER photos_chart_generation_delete AFTER DELETE ON photos
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
