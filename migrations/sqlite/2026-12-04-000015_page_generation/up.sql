-- The patient's chart generation (000014) now follows all that the provider's patient page shows of
-- the patient: besides the chart, their own row, whether they have a portal login and whether it is
-- suspended, and their e-mails. The row of patient 0 (no patient has that id) is the clinic's: raised
-- with every change to the open alerts or the published consent forms, which the page counts. A server
-- keeps whole pages and answers them while both numbers stand (checked with the page's audit row).

-- A new patient has no row yet: 0.
CREATE TRIGGER patients_chart_generation_update AFTER UPDATE ON patients
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (OLD.id, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER patients_chart_generation_delete AFTER DELETE ON patients
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (OLD.id, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

-- Only what the page shows of the login: a sign-in or a session's stamp (read_generation) leaves it.
CREATE TRIGGER users_chart_generation_insert AFTER INSERT ON users WHEN NEW.patient_id IS NOT NULL
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (NEW.patient_id, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER users_chart_generation_update AFTER UPDATE OF patient_id, disabled_at ON users
WHEN OLD.patient_id IS NOT NEW.patient_id OR OLD.disabled_at IS NOT NEW.disabled_at
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL AND NEW.patient_id IS NOT OLD.patient_id
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER users_chart_generation_delete AFTER DELETE ON users WHEN OLD.patient_id IS NOT NULL
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (OLD.patient_id, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER outbox_chart_generation_insert AFTER INSERT ON outbox WHEN NEW.patient_id IS NOT NULL
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (NEW.patient_id, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER outbox_chart_generation_update AFTER UPDATE ON outbox
BEGIN
    INSERT INTO chart_generations (patient_id, generation) SELECT OLD.patient_id, 1 WHERE OLD.patient_id IS NOT NULL
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
    INSERT INTO chart_generations (patient_id, generation) SELECT NEW.patient_id, 1 WHERE NEW.patient_id IS NOT NULL AND NEW.patient_id IS NOT OLD.patient_id
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER outbox_chart_generation_delete AFTER DELETE ON outbox WHEN OLD.patient_id IS NOT NULL
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (OLD.patient_id, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

-- The clinic's number (patient 0).
CREATE TRIGGER alerts_clinic_generation_insert AFTER INSERT ON alerts
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (0, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER alerts_clinic_generation_update AFTER UPDATE OF status ON alerts WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (0, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
CREATE TRIGGER alerts_clinic_generation_delete AFTER DELETE ON alerts
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (0, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
-- Published forms never change nor go (consent_forms_immutable).
CREATE TRIGGER consent_forms_clinic_generation AFTER INSERT ON consent_forms
BEGIN
    INSERT INTO chart_generations (patient_id, generation) VALUES (0, 1)
        ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;
