ALTER TABLE outbox
    ALTER COLUMN kind TYPE TEXT,
    ALTER COLUMN status TYPE TEXT,
    ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('invitation', 'aftercare_day_of', 'reminder_day_1',
        'reminder_days_2_7', 'reminder_day_7_plus', 'password_reset')),
    ADD CONSTRAINT outbox_status_check CHECK (status IN ('queued', 'sent', 'failed', 'held', 'cancelled'));
ALTER TABLE sessions
    ALTER COLUMN session_number TYPE INTEGER,
    ALTER COLUMN device TYPE TEXT,
    ALTER COLUMN needle_depth_hundredths TYPE INTEGER,
    ALTER COLUMN notes_stage TYPE TEXT,
    ALTER COLUMN revision TYPE INTEGER,
    ADD CONSTRAINT sessions_session_number_check CHECK (session_number BETWEEN 1 AND 5),
    ADD CONSTRAINT sessions_device_check CHECK (device IN ('roller', 'pen')),
    ADD CONSTRAINT sessions_needle_depth_hundredths_check CHECK (needle_depth_hundredths BETWEEN 10 AND 300),
    ADD CONSTRAINT sessions_notes_stage_check CHECK (notes_stage IN ('day_of', 'day_1', 'days_2_7', 'day_7_plus')),
    ADD CONSTRAINT sessions_revision_check CHECK (revision >= 1);
ALTER TABLE series
    ALTER COLUMN condition TYPE TEXT,
    ALTER COLUMN status TYPE TEXT,
    ALTER COLUMN planned_sessions TYPE INTEGER,
    ALTER COLUMN sessions_recorded TYPE INTEGER,
    ADD CONSTRAINT series_condition_check CHECK (condition IN ('acne_scars', 'fine_lines_and_wrinkles',
        'enlarged_pores', 'hyperpigmentation', 'stretch_marks', 'surgical_scars', 'other')),
    ADD CONSTRAINT series_status_check CHECK (status IN ('open', 'completed')),
    ADD CONSTRAINT series_planned_sessions_check CHECK (planned_sessions BETWEEN 1 AND 5),
    ADD CONSTRAINT series_sessions_recorded_check CHECK (sessions_recorded BETWEEN 0 AND 5);
DROP DOMAIN outbox_status, outbox_kind, session_revision, aftercare_stage, needle_depth_hundredths, session_device,
    session_number, series_sessions_recorded, series_planned_sessions, series_status, series_condition;
