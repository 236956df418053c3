-- Consent forms are the clinic's own text, written by a manager; each version is immutable once
-- published (no UPDATE or DELETE).
CREATE TABLE consent_forms (
    version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by BIGINT REFERENCES users (id)
);
CREATE FUNCTION consent_forms_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent forms are immutable once published';
END;
$$;
CREATE TRIGGER consent_forms_immutable BEFORE UPDATE OR DELETE ON consent_forms
    FOR EACH ROW EXECUTE FUNCTION consent_forms_immutable();
-- A patient's signature of one version for one series: the typed name, when, from where, and the
-- SHA-256 of the exact text signed.
CREATE TABLE consents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id BIGINT NOT NULL REFERENCES series (id),
    patient_id BIGINT NOT NULL REFERENCES patients (id),
    form_version BIGINT NOT NULL REFERENCES consent_forms (version),
    typed_name TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    signed_by BIGINT NOT NULL REFERENCES users (id),
    address TEXT NOT NULL,
    UNIQUE (series_id, form_version)
);
CREATE INDEX consents_patient ON consents (patient_id);
