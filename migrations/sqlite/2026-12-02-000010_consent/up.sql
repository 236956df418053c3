-- Consent forms are the clinic's own text, written by a manager; each version is immutable once
-- published (no UPDATE or DELETE).
CREATE TABLE consent_forms (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by INTEGER REFERENCES users (id)
);
CREATE TRIGGER consent_forms_no_update BEFORE UPDATE ON consent_forms
BEGIN
    SELECT RAISE(ABORT, 'consent forms are immutable once published');
END;
CREATE TRIGGER consent_forms_no_delete BEFORE DELETE ON consent_forms
BEGIN
    SELECT RAISE(ABORT, 'consent forms are immutable once published');
END;
-- A patient's signature of one version for one series: the typed name, when, from where, and the
-- SHA-256 of the exact text signed.
CREATE TABLE consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    series_id INTEGER NOT NULL REFERENCES series (id),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    form_version INTEGER NOT NULL REFERENCES consent_forms (version),
    typed_name TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    signed_by INTEGER NOT NULL REFERENCES users (id),
    address TEXT NOT NULL,
    UNIQUE (series_id, form_version)
);
CREATE INDEX consents_patient ON consents (patient_id);
