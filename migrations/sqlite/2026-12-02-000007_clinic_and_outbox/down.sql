DROP TABLE password_resets;
DROP TABLE outbox;
ALTER TABLE patients DROP COLUMN reminders_opt_out;
DROP TABLE clinic;
