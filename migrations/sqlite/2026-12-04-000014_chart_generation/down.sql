DROP TRIGGER photos_chart_generation_delete;
DROP TRIGGER photos_chart_generation_update;
DROP TRIGGER photos_chart_generation_insert;
DROP TRIGGER consents_chart_generation_delete;
DROP TRIGGER consents_chart_generation_update;
DROP TRIGGER consents_chart_generation_insert;
DROP TRIGGER sessions_generations_delete;
DROP TRIGGER sessions_generations_update;
DROP TRIGGER series_generations_delete;
DROP TRIGGER series_generations_update;
DROP TRIGGER series_generations_insert;
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
DROP TABLE chart_generations;
