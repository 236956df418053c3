-- The patient's chart generation (000014) now follows all that the provider's patient page shows of
-- the patient: besides the chart, their own row, whether they have a portal login and whether it is
-- suspended, and their e-mails. The row of patient 0 (no patient has that id) is the clinic's: raised
-- with every change to the open alerts or the published consent forms, which the page counts. A server
-- keeps whole pages and answers them while both numbers stand (checked with the page's audit row).

-- A new patient has no row yet: 0.
CREATE FUNCTION chart_generation_of_patient() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM raise_chart_generation(OLD.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER patients_chart_generation AFTER UPDATE OR DELETE ON patients
    FOR EACH ROW EXECUTE FUNCTION chart_generation_of_patient();

-- Only what the page shows of the login: a sign-in or a session's stamp (read_generation) leaves it.
CREATE FUNCTION chart_generation_of_login() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.patient_id IS NOT NULL THEN
        PERFORM raise_chart_generation(OLD.patient_id);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.patient_id IS NOT NULL
        AND (TG_OP = 'INSERT' OR NEW.patient_id IS DISTINCT FROM OLD.patient_id) THEN
        PERFORM raise_chart_generation(NEW.patient_id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_chart_generation AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION chart_generation_of_login();
CREATE TRIGGER users_chart_generation_update AFTER UPDATE OF patient_id, disabled_at ON users
    FOR EACH ROW WHEN (OLD.patient_id IS DISTINCT FROM NEW.patient_id OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at)
    EXECUTE FUNCTION chart_generation_of_login();

-- E-mails change in batches (a recording queues four, the worker claims several): one call a
-- statement, each patient's number raised once, in patient order.
CREATE FUNCTION raise_chart_generations(patients BIGINT[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO chart_generations AS g (patient_id, generation)
        SELECT DISTINCT p, 1 FROM unnest(patients) AS p WHERE p IS NOT NULL ORDER BY p
        ON CONFLICT (patient_id) DO UPDATE SET generation = g.generation + 1;
$$;
CREATE FUNCTION outbox_chart_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM raise_chart_generations(ARRAY(SELECT patient_id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM raise_chart_generations(ARRAY(SELECT patient_id FROM old_rows UNION SELECT patient_id FROM new_rows));
    ELSE
        PERFORM raise_chart_generations(ARRAY(SELECT patient_id FROM old_rows));
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_chart_generation_insert AFTER INSERT ON outbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_chart_generation();
CREATE TRIGGER outbox_chart_generation_update AFTER UPDATE ON outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_chart_generation();
CREATE TRIGGER outbox_chart_generation_delete AFTER DELETE ON outbox REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_chart_generation();

-- The clinic's number (patient 0).
CREATE FUNCTION clinic_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM raise_chart_generation(0);
    RETURN NULL;
END;
$$;
CREATE TRIGGER alerts_clinic_generation AFTER INSERT OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION clinic_generation();
CREATE TRIGGER alerts_clinic_generation_update AFTER UPDATE OF status ON alerts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION clinic_generation();
-- Published forms never change nor go (consent_forms_immutable).
CREATE TRIGGER consent_forms_clinic_generation AFTER INSERT ON consent_forms
    FOR EACH ROW EXECUTE FUNCTION clinic_generation();
