-- A patient's details as they were before each correction: nothing is overwritten without a trace.
CREATE TABLE patient_revisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id BIGINT NOT NULL REFERENCES patients (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    email TEXT,
    phone TEXT,
    replaced_by BIGINT NOT NULL REFERENCES users (id),
    replaced_at TIMESTAMP NOT NULL
);
CREATE INDEX patient_revisions_patient ON patient_revisions (patient_id);
