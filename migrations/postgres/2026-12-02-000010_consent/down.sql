DROP TABLE consents;
DROP TRIGGER consent_forms_immutable ON consent_forms;
DROP FUNCTION consent_forms_immutable();
DROP TABLE consent_forms;
