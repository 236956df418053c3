-- The e-mails' trigger (000015) raises the patients' numbers itself, reading the statement's changed
-- rows directly: PL/pgSQL keeps the upsert's plan for the connection, where the SQL function it called
-- planned it afresh at every statement (a recorded session's e-mails, every batch the worker claims or
-- sends). What it raises is unchanged: each patient of the changed rows once, in patient order.
CREATE OR REPLACE FUNCTION outbox_chart_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO chart_generations AS g (patient_id, generation)
            SELECT DISTINCT patient_id, 1 FROM new_rows WHERE patient_id IS NOT NULL ORDER BY 1
            ON CONFLICT (patient_id) DO UPDATE SET generation = g.generation + 1;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO chart_generations AS g (patient_id, generation)
            SELECT patient_id, 1 FROM (SELECT patient_id FROM old_rows UNION SELECT patient_id FROM new_rows) AS r
                WHERE patient_id IS NOT NULL ORDER BY 1
            ON CONFLICT (patient_id) DO UPDATE SET generation = g.generation + 1;
    ELSE
        INSERT INTO chart_generations AS g (patient_id, generation)
            SELECT DISTINCT patient_id, 1 FROM old_rows WHERE patient_id IS NOT NULL ORDER BY 1
            ON CONFLICT (patient_id) DO UPDATE SET generation = g.generation + 1;
    END IF;
    RETURN NULL;
END;
$$;
DROP FUNCTION raise_chart_generations(BIGINT[]);
