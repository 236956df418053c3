//! Error policy: every use case returns [`Error`]. Bad input is [`Error::Validation`] naming the field;
//! a rule's refusal is [`Error::Refused`] with a stable [`ErrorCode`] and words a clinic's staff can act
//! on; "not found", "not allowed" and "sign in" are variants of their own. Anything else keeps its cause
//! through `#[source]` (the web layer logs the whole chain and answers with a plain message), and a
//! database that cannot be reached is [`Error::Unavailable`], never a crash.

use clinic_db::DbError;
use clinic_domain::FieldError;
use serde::Serialize;
use std::fmt;

/// Every stable error code the product answers with; one enum, so a code is never a stray string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationFailed,
    NotFound,
    Unauthorized,
    Forbidden,
    InvalidCredentials,
    TooManyAttempts,
    ServiceUnavailable,
    InternalError,
    MalformedJson,
    InvalidBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    CsrfFailed,
    EmailTaken,
    LastManager,
    InvalidCode,
    PatientEmailRequired,
    OpenSeriesExists,
    ReviewNoteRequired,
    BeyondTypicalAcknowledgementRequired,
    SeriesMaximumReached,
    SeriesClosed,
    NoSession,
    InvalidTimeZone,
    NotRetryable,
    ReasonRequired,
    OnlyLatestCanBeVoided,
    SessionVoid,
    IdempotencyKeyReused,
    NoteRequired,
    CheckInClosed,
    AlertResolved,
    MfaEnrolmentRequired,
    MfaAlreadyEnabled,
    MfaNotStarted,
    ConsentRequired,
    ConsentFormOutdated,
    ConsentAlreadySigned,
    UnsupportedImage,
    PhotoWithdrawn,
}

impl ErrorCode {
    /// Every code, for the test that drives the API to each one and for the API's documents.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::ValidationFailed,
        ErrorCode::NotFound,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::InvalidCredentials,
        ErrorCode::TooManyAttempts,
        ErrorCode::ServiceUnavailable,
        ErrorCode::InternalError,
        ErrorCode::MalformedJson,
        ErrorCode::InvalidBody,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::CsrfFailed,
        ErrorCode::EmailTaken,
        ErrorCode::LastManager,
        ErrorCode::InvalidCode,
        ErrorCode::PatientEmailRequired,
        ErrorCode::OpenSeriesExists,
        ErrorCode::ReviewNoteRequired,
        ErrorCode::BeyondTypicalAcknowledgementRequired,
        ErrorCode::SeriesMaximumReached,
        ErrorCode::SeriesClosed,
        ErrorCode::NoSession,
        ErrorCode::InvalidTimeZone,
        ErrorCode::NotRetryable,
        ErrorCode::ReasonRequired,
        ErrorCode::OnlyLatestCanBeVoided,
        ErrorCode::SessionVoid,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::NoteRequired,
        ErrorCode::CheckInClosed,
        ErrorCode::AlertResolved,
        ErrorCode::MfaEnrolmentRequired,
        ErrorCode::MfaAlreadyEnabled,
        ErrorCode::MfaNotStarted,
        ErrorCode::ConsentRequired,
        ErrorCode::ConsentFormOutdated,
        ErrorCode::ConsentAlreadySigned,
        ErrorCode::UnsupportedImage,
        ErrorCode::PhotoWithdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::LastManager => "last_manager",
            ErrorCode::InvalidCode => "invalid_code",
            ErrorCode::PatientEmailRequired => "patient_email_required",
            ErrorCode::OpenSeriesExists => "open_series_exists",
            ErrorCode::ReviewNoteRequired => "review_note_required",
            ErrorCode::BeyondTypicalAcknowledgementRequired => "beyond_typical_acknowledgement_required",
            ErrorCode::SeriesMaximumReached => "series_maximum_reached",
            ErrorCode::SeriesClosed => "series_closed",
            ErrorCode::NoSession => "no_session",
            ErrorCode::InvalidTimeZone => "invalid_time_zone",
            ErrorCode::NotRetryable => "not_retryable",
            ErrorCode::ReasonRequired => "reason_required",
            ErrorCode::OnlyLatestCanBeVoided => "only_latest_can_be_voided",
            ErrorCode::SessionVoid => "session_void",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::NoteRequired => "note_required",
            ErrorCode::CheckInClosed => "check_in_closed",
            ErrorCode::AlertResolved => "alert_resolved",
            ErrorCode::MfaEnrolmentRequired => "mfa_enrolment_required",
            ErrorCode::MfaAlreadyEnabled => "mfa_already_enabled",
            ErrorCode::MfaNotStarted => "mfa_not_started",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::ConsentFormOutdated => "consent_form_outdated",
            ErrorCode::ConsentAlreadySigned => "consent_already_signed",
            ErrorCode::UnsupportedImage => "unsupported_image",
            ErrorCode::PhotoWithdrawn => "photo_withdrawn",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of the request is not acceptable.
    #[error("{0}")]
    Validation(FieldError),
    /// A rule refused the request, or the request itself is unusable.
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error("not found")]
    NotFound,
    /// No valid sign-in.
    #[error("sign in first")]
    Unauthorized,
    /// Signed in, but the account's role may not do this.
    #[error("your account may not do this")]
    Forbidden,
    /// Wrong e-mail or password (the same answer for both).
    #[error("the e-mail address or password is not right")]
    InvalidCredentials,
    /// Too many failed attempts; try again after this many seconds.
    /// A second-factor code at sign-in that is wrong, used or expired (401 `invalid_code`).
    #[error("this code is not valid: it may be mistyped, already used or expired")]
    InvalidSecondFactor,
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    Throttled { retry_after: i64 },
    /// The database cannot be reached, or is busy beyond the wait.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbError),
    /// More password checks are waiting than the server takes on; nothing was evaluated.
    #[error("the server is busy; try again in a moment")]
    Busy,
    #[error("a database query failed")]
    Database(#[source] DbError),
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Refused {
            code,
            message: message.into(),
        }
    }

    /// An unexpected failure, with what was being done and its cause.
    pub fn internal(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    pub fn bug(context: impl Into<String>) -> Self {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Validation(_) => ErrorCode::ValidationFailed,
            Error::Refused { code, .. } => *code,
            Error::NotFound => ErrorCode::NotFound,
            Error::Unauthorized => ErrorCode::Unauthorized,
            Error::Forbidden => ErrorCode::Forbidden,
            Error::InvalidCredentials => ErrorCode::InvalidCredentials,
            Error::Throttled { .. } => ErrorCode::TooManyAttempts,
            Error::InvalidSecondFactor => ErrorCode::InvalidCode,
            Error::Unavailable(_) | Error::Busy => ErrorCode::ServiceUnavailable,
            Error::Database(_) | Error::Internal { .. } => ErrorCode::InternalError,
        }
    }

    /// What the client is told. Internal causes are never part of it.
    pub fn public_message(&self) -> String {
        match self {
            Error::Validation(e) => e.to_string(),
            Error::Refused { message, .. } => message.clone(),
            Error::Unavailable(_) => "the service is unavailable; try again shortly".into(),
            Error::Database(_) | Error::Internal { .. } => {
                "something went wrong on our side; it has been logged".into()
            }
            other => other.to_string(),
        }
    }

    /// The error and every cause beneath it, for one log line.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Error::NotFound,
            DbError::Pool(_) | DbError::Connect(_) | DbError::Busy => Error::Unavailable(e),
            other => Error::Database(other),
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Validation(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_complete() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(serde_json_string(*c), c.as_str());
        }
        assert_eq!(seen.len(), ErrorCode::ALL.len());
    }

    fn serde_json_string(c: ErrorCode) -> String {
        // serde's rename_all must agree with as_str.
        let s = format!("{:?}", c);
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if ch.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        }
        out
    }

    #[test]
    fn the_chain_names_every_cause_and_the_public_message_none() {
        let e = Error::Database(DbError::Migration("column x is missing".into()));
        assert!(e.chain().contains("column x is missing"), "{}", e.chain());
        assert!(!e.public_message().contains("column"));
        assert!(matches!(Error::from(DbError::Busy), Error::Unavailable(_)));
        assert!(matches!(Error::from(DbError::NotFound), Error::NotFound));
    }
}
