ALTER TABLE series RESET (fillfactor);
CREATE INDEX series_report ON series (sessions_recorded, opened_at);
