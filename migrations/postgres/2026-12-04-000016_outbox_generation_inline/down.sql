CREATE FUNCTION raise_chart_generations(patients BIGINT[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO chart_generations AS g (patient_id, generation)
        SELECT DISTINCT p, 1 FROM unnest(patients) AS p WHERE p IS NOT NULL ORDER BY p
        ON CONFLICT (patient_id) DO UPDATE SET generation = g.generation + 1;
$$;
CREATE OR REPLACE FUNCTION outbox_chart_generation() RETURNS trigger LANGUAGE plpgsql AS $$
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
