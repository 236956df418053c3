//! The tables of both databases (written by hand: the two migration trees define the same columns).

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        patient_id -> Nullable<BigInt>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    patients (id) {
        id -> BigInt,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reminders_opt_out -> Bool,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        purpose -> Text,
        patient_id -> Nullable<BigInt>,
        code_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    series (id) {
        id -> BigInt,
        patient_id -> BigInt,
        condition -> Text,
        planned_sessions -> Integer,
        reason -> Nullable<Text>,
        review_note -> Nullable<Text>,
        flagged_after_maximum -> Bool,
        status -> Text,
        opened_by -> BigInt,
        opened_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        sessions_recorded -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        series_id -> BigInt,
        session_number -> Integer,
        performed_on -> Date,
        provider_id -> BigInt,
        treatment_areas -> Text,
        eye_area -> Bool,
        device -> Text,
        needle_depth_hundredths -> Integer,
        products_applied -> Text,
        notes -> Nullable<Text>,
        beyond_typical_ack_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        patient_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    series_refusals (id) {
        id -> BigInt,
        series_id -> BigInt,
        provider_id -> BigInt,
        attempted_number -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        patient_id -> Nullable<BigInt>,
        subject -> Nullable<Text>,
        outcome -> Text,
        address -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    auth_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    patient_revisions (id) {
        id -> BigInt,
        patient_id -> BigInt,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        replaced_by -> BigInt,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    clinic (id) {
        id -> Integer,
        name -> Text,
        time_zone -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        address -> Nullable<Text>,
        reminder_hour -> Integer,
        require_mfa_for -> Text,
        patients_see_photos -> Bool,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        status -> Text,
        recipient -> Text,
        patient_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        session_id -> Nullable<BigInt>,
        message_id -> Text,
        payload -> Nullable<Text>,
        scheduled_for -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(patients -> users (created_by));
diesel::joinable!(series -> patients (patient_id));
diesel::joinable!(sessions -> series (series_id));
diesel::joinable!(series_refusals -> series (series_id));
diesel::joinable!(login_sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    patients,
    invitations,
    series,
    sessions,
    series_refusals,
    login_sessions,
    audit_events,
    settings,
    auth_throttle,
    patient_revisions,
    clinic,
    outbox,
    password_resets,
);
