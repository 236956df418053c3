-- PostgreSQL reads a table's CHECK constraints back from their stored text and plans them again at every
-- statement that writes the table (a recording writes series, sessions and outbox; the mail worker
-- outbox), while a domain's checks are compiled once per connection. The rules of one column each become
-- domains, under the same constraint names; the rules that tie two columns together stay table checks.
-- The values allowed are unchanged. Changing a column's type rewrites its table once.
CREATE DOMAIN series_condition AS TEXT CONSTRAINT series_condition_check CHECK (VALUE IN ('acne_scars',
    'fine_lines_and_wrinkles', 'enlarged_pores', 'hyperpigmentation', 'stretch_marks', 'surgical_scars', 'other'));
CREATE DOMAIN series_status AS TEXT CONSTRAINT series_status_check CHECK (VALUE IN ('open', 'completed'));
-- 5: clinic_domain::series::MAXIMUM
CREATE DOMAIN series_planned_sessions AS INTEGER CONSTRAINT series_planned_sessions_check CHECK (VALUE BETWEEN 1 AND 5);
CREATE DOMAIN series_sessions_recorded AS INTEGER CONSTRAINT series_sessions_recorded_check CHECK (VALUE BETWEEN 0 AND 5);
CREATE DOMAIN session_number AS INTEGER CONSTRAINT sessions_session_number_check CHECK (VALUE BETWEEN 1 AND 5);
CREATE DOMAIN session_device AS TEXT CONSTRAINT sessions_device_check CHECK (VALUE IN ('roller', 'pen'));
CREATE DOMAIN needle_depth_hundredths AS INTEGER CONSTRAINT sessions_needle_depth_hundredths_check
    CHECK (VALUE BETWEEN 10 AND 300);
CREATE DOMAIN aftercare_stage AS TEXT CONSTRAINT sessions_notes_stage_check
    CHECK (VALUE IN ('day_of', 'day_1', 'days_2_7', 'day_7_plus'));
CREATE DOMAIN session_revision AS INTEGER CONSTRAINT sessions_revision_check CHECK (VALUE >= 1);
CREATE DOMAIN outbox_kind AS TEXT CONSTRAINT outbox_kind_check CHECK (VALUE IN ('invitation', 'aftercare_day_of',
    'reminder_day_1', 'reminder_days_2_7', 'reminder_day_7_plus', 'password_reset'));
CREATE DOMAIN outbox_status AS TEXT CONSTRAINT outbox_status_check
    CHECK (VALUE IN ('queued', 'sent', 'failed', 'held', 'cancelled'));

ALTER TABLE series
    DROP CONSTRAINT series_condition_check,
    DROP CONSTRAINT series_status_check,
    DROP CONSTRAINT series_planned_sessions_check,
    DROP CONSTRAINT series_sessions_recorded_check,
    ALTER COLUMN condition TYPE series_condition,
    ALTER COLUMN status TYPE series_status,
    ALTER COLUMN planned_sessions TYPE series_planned_sessions,
    ALTER COLUMN sessions_recorded TYPE series_sessions_recorded;
ALTER TABLE sessions
    DROP CONSTRAINT sessions_session_number_check,
    DROP CONSTRAINT sessions_device_check,
    DROP CONSTRAINT sessions_needle_depth_hundredths_check,
    DROP CONSTRAINT sessions_notes_stage_check,
    DROP CONSTRAINT sessions_revision_check,
    ALTER COLUMN session_number TYPE session_number,
    ALTER COLUMN device TYPE session_device,
    ALTER COLUMN needle_depth_hundredths TYPE needle_depth_hundredths,
    ALTER COLUMN notes_stage TYPE aftercare_stage,
    ALTER COLUMN revision TYPE session_revision;
ALTER TABLE outbox
    DROP CONSTRAINT outbox_kind_check,
    DROP CONSTRAINT outbox_status_check,
    ALTER COLUMN kind TYPE outbox_kind,
    ALTER COLUMN status TYPE outbox_status;
