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
        read_generation -> BigInt,
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
        user_id -> Nullable<BigInt>,
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
        notes_stage -> Text,
        revision -> Integer,
        revised_at -> Nullable<Timestamp>,
        revised_by -> Nullable<BigInt>,
        revision_reason -> Nullable<Text>,
        voided_at -> Nullable<Timestamp>,
        voided_by -> Nullable<BigInt>,
        void_reason -> Nullable<Text>,
    }
}

diesel::table! {
    session_revisions (id) {
        id -> BigInt,
        session_id -> BigInt,
        revision -> Integer,
        made_at -> Timestamp,
        made_by -> BigInt,
        reason -> Nullable<Text>,
        performed_on -> Date,
        treatment_areas -> Text,
        eye_area -> Bool,
        device -> Text,
        needle_depth_hundredths -> Integer,
        products_applied -> Text,
        notes -> Nullable<Text>,
        notes_stage -> Text,
    }
}

diesel::table! {
    check_ins (id) {
        id -> BigInt,
        session_id -> BigInt,
        patient_id -> BigInt,
        day -> Integer,
        effects -> Text,
        unexpected -> Bool,
        note -> Nullable<Text>,
        flagged -> Bool,
        flag_reasons -> Nullable<Text>,
        created_at -> Timestamp,
        replaced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        check_in_id -> BigInt,
        patient_id -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<BigInt>,
        resolution_note -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
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
        enrolment_only -> Bool,
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
diesel::joinable!(check_ins -> sessions (session_id));
diesel::joinable!(alerts -> check_ins (check_in_id));
diesel::joinable!(alerts -> patients (patient_id));
diesel::table! {
    user_mfa (user_id) {
        user_id -> BigInt,
        sealed_secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    consent_forms (version) {
        version -> BigInt,
        title -> Text,
        body -> Text,
        published_at -> Timestamp,
        published_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    consents (id) {
        id -> BigInt,
        series_id -> BigInt,
        patient_id -> BigInt,
        form_version -> BigInt,
        typed_name -> Text,
        text_sha256 -> Text,
        signed_at -> Timestamp,
        signed_by -> BigInt,
        address -> Text,
    }
}

diesel::table! {
    photo_blobs (sha256) {
        sha256 -> Text,
        bytes -> Binary,
        size -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    photos (id) {
        id -> BigInt,
        session_id -> BigInt,
        patient_id -> BigInt,
        kind -> Text,
        sha256 -> Text,
        thumbnail_sha256 -> Text,
        width -> Integer,
        height -> Integer,
        uploaded_by -> BigInt,
        uploaded_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<BigInt>,
        withdraw_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Raised by the database with every change to a patient's series, sessions, consents or photos.
    chart_generations (patient_id) {
        patient_id -> BigInt,
        generation -> BigInt,
    }
}

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
    session_revisions,
    check_ins,
    alerts,
    idempotency_keys,
    user_mfa,
    recovery_codes,
    mfa_challenges,
    consent_forms,
    consents,
    photo_blobs,
    photos,
    chart_generations,
);
