-- A number per patient, raised by every change to one of their series, sessions, consents or photos:
-- the lists of the provider's patient page that a server keeps between requests. It checks this one
-- number (read with the patient's own row, which it reads each time) instead of reading them again.
-- A row appears with the patient's first change; no row reads as 0. No foreign key: the number only
-- ever comes from rows that have one, and the check would cost every write below.
CREATE TABLE chart_generations (
    patient_id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
) WITH (fillfactor = 50);

-- Raises the patient's number: an update once the row exists (every change after the first), the
-- insert only before.
CREATE FUNCTION raise_chart_generation(patient BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chart_generations SET generation = generation + 1 WHERE patient_id = patient;
    IF NOT FOUND THEN
        INSERT INTO chart_generations AS g (patient_id, generation) VALUES (patient, 1)
            ON CONFLICT (patient_id) DO UPDATE SET generation = g.generation + 1;
    END IF;
END;
$$;

-- Series and sessions already raise the patient's account's number (000013): the same trigger raises
-- both, one call per row. A new session needs no trigger of its own: its insert raises its series'
-- count (sessions_counters).
CREATE OR REPLACE FUNCTION patient_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
        IF OLD.patient_id IS NOT NULL THEN
            PERFORM raise_chart_generation(OLD.patient_id);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.patient_id IS DISTINCT FROM OLD.patient_id) THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = NEW.patient_id;
        IF NEW.patient_id IS NOT NULL THEN
            PERFORM raise_chart_generation(NEW.patient_id);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION chart_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM raise_chart_generation(OLD.patient_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.patient_id IS DISTINCT FROM OLD.patient_id) THEN
        PERFORM raise_chart_generation(NEW.patient_id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER consents_chart_generation AFTER INSERT OR UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION chart_generation();
CREATE TRIGGER photos_chart_generation AFTER INSERT OR UPDATE OR DELETE ON photos
    FOR EACH ROW EXECUTE FUNCTION chart_generation();
