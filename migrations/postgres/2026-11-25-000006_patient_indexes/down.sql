DROP INDEX sessions_patient;
DROP INDEX series_patient;
