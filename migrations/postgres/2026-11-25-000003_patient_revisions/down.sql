DROP TABLE patient_revisions;
