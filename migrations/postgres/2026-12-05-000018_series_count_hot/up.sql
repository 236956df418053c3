-- A recorded session raises its series' count (sessions_counters, 000005). While the count was a key of
-- series_report, each raise wrote a new entry in every index of the series; without it, and with room
-- left on the series' pages for the new version, the raise is a HOT update (no index entry at all).
-- The report then counts series by their count from the rows opened in its range (a scan of the series,
-- or series_opened_at for a short range).
DROP INDEX series_report;
ALTER TABLE series SET (fillfactor = 80);
