DROP TRIGGER photos_chart_generation ON photos;
DROP TRIGGER consents_chart_generation ON consents;
DROP FUNCTION chart_generation();
DROP FUNCTION raise_chart_generation(BIGINT);
CREATE OR REPLACE FUNCTION patient_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TABLE chart_generations;
