-- A patient's check-ins now raise their account's number too (000013): the portal page lists them
-- beside the timeline, and a server keeps those lists while the number stands.
CREATE TRIGGER check_ins_read_generation_insert AFTER INSERT ON check_ins
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = NEW.patient_id;
END;
CREATE TRIGGER check_ins_read_generation_update AFTER UPDATE ON check_ins
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id IN (OLD.patient_id, NEW.patient_id);
END;
CREATE TRIGGER check_ins_read_generation_delete AFTER DELETE ON check_ins
BEGIN
    UPDATE users SET read_generation = read_generation + 1 WHERE patient_id = OLD.patient_id;
END;
