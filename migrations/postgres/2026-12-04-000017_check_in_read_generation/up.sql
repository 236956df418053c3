-- A patient's check-ins now raise their account's number too (000013): the portal page lists them
-- beside the timeline, and a server keeps those lists while the number stands.
CREATE FUNCTION check_in_read_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.patient_id <> OLD.patient_id) THEN
        UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = NEW.patient_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER check_ins_read_generation AFTER INSERT OR UPDATE OR DELETE ON check_ins
    FOR EACH ROW EXECUTE FUNCTION check_in_read_generation();
