DROP TABLE consents;
DROP TRIGGER consent_forms_no_update;
DROP TRIGGER consent_forms_no_delete;
DROP TABLE consent_forms;
