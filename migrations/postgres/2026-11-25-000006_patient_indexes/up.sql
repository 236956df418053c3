-- Every timeline and patient page reads a patient's series and their latest session: without these
-- the database scanned every series for each request.
CREATE INDEX series_patient ON series (patient_id, id);
CREATE INDEX sessions_patient ON sessions (patient_id, performed_on, id);
